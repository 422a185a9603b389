/**
 * `safehouse pair ble` as a technician runs it: a spawned CLI, answers on
 * stdin, against the simulated org.bluez on a private dbus-daemon
 * (test/harness/bluez-sim*.ts; the config's ble.bus_address points the CLI
 * at it). Plus the press rule on its own (CandidateTable), in-process.
 */
import t, { type Test } from 'tap'
import { chownSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FakeClock } from '../../devices/time/clock.js'
import { Kind } from '../../protocols/event-kinds.js'
import { loadConfig } from '../../gateway/config/load-config.js'
import { loadSecrets } from '../../gateway/config/secrets.js'
import type { BleWhistleConfig } from '../../devices/ble-whistle/config.js'
import { APPLE_COMPANY_ID, BTHOME_UUID, EDDYSTONE_UUID, type RawAdvert } from '../../devices/ble-whistle/raw-advert.js'
import { FileReplayCounterStore } from '../../devices/ble-whistle/replay-store-file.js'
import { bthomeEncrypted, bthomeServiceData, BTHOME_BUTTON, ibeaconManufacturerData } from '../../devices/ble-whistle/sim-ble-whistle.js'
import { WhistleReceiver } from '../../devices/ble-whistle/whistle-receiver.js'
import { UsageError } from '../../provisioning/commands/usage-error.js'
import { CandidateTable } from '../../provisioning/pair/ble-candidates.js'
import { pairBle } from '../../provisioning/pair/pair-ble.js'
import { cli, startCli, tmpDir, type CliResult } from '../harness/cli-process.js'
import { cliInProcess } from '../harness/cli-in-process.js'
import { PrivateBus, type PrivateBusOptions } from '../harness/bluez-sim-bus.js'
import { BluezSim } from '../harness/bluez-sim.js'
import { RecordingSink, waitFor } from '../harness/bluez-sim-recorder.js'

// Spawned processes each load the product, two test files run at once on 2 cores: generous limits.
t.setTimeout(150_000)

const BTN = 'A4:C1:38:00:00:07'
const BTN2 = 'A4:C1:38:00:00:08'
const SEC = '3C:2E:F5:12:34:56'
const TAG = 'C3:00:00:12:34:57'
const EDDY = 'D0:00:00:00:00:0E'
const RAW = 'E0:00:00:00:00:0F'
const KEY = '231d39c1d7cc1ab1aee224cd096db932'
const OLD_KEY = '00112233445566778899aabbccddeeff'
const WRONG = 'ffeeddccbbaa99887766554433221100'
const UUID = '83256b74-78d0-43a4-8269-05f9dc8a44ba'

const plain = (packetId: number, buttons: number[] = [], triggerBased = false) => ({ [BTHOME_UUID]: bthomeServiceData({ packetId, buttons, battery: 90, triggerBased }) })
const secure = (counter: number, key = KEY, triggerBased = true) => ({ [BTHOME_UUID]: bthomeEncrypted({ packetId: counter & 0xff, buttons: [BTHOME_BUTTON.PRESS], triggerBased }, Buffer.from(key, 'hex'), SEC, counter) })
const eddystoneUid = Buffer.from([0x00, 0xee, ...Array(10).fill(0xaa), ...Array(6).fill(0xbb), 0, 0])

interface Rig { dir: string; file: string; sim: BluezSim; bus: PrivateBus }

/** Private bus + simulated bluetoothd + a config pointing at them. */
async function rig(t: Test, o: { devices?: string[]; bus?: PrivateBusOptions; noBluetoothd?: boolean } = {}): Promise<Rig> {
  const dir = tmpDir(t, 'safehouse-pair-ble-')
  const bus = await new PrivateBus(o.bus).open()
  t.teardown(() => bus.close())
  const sim = new BluezSim(bus.address)
  if (!o.noBluetoothd) await sim.start()
  t.teardown(() => sim.stop())
  const file = join(dir, 'config.yaml')
  writeFileSync(file, [
    '# site config (comments survive pairing)', 'site: s1', 'post: p1', `data_dir: ${join(dir, 'data')}`, `secrets_file: ${join(dir, 'secrets.yaml')}`,
    `ble: { driver: bluez, bus_address: "${bus.address}", call_timeout_ms: 5000 }`,
    'devices:', '  - { id: door-panic, kind: panic-button, driver: sim }', ...(o.devices ?? []), '',
  ].join('\n'))
  return { dir, file, sim, bus }
}

/** Start the command; resolves its result. The child is killed at teardown if still running. */
function run(t: Test, args: string[], stdin: string) {
  const p = startCli(['pair', 'ble', ...args], { stdin })
  t.teardown(() => { if (p.exitCode === null) p.kill('SIGKILL') })
  const done = new Promise<CliResult>((resolve) => {
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000)
    p.on('exit', (code) => { clearTimeout(timer); setImmediate(() => resolve({ code, out: p.output.out, err: p.output.err })) })
  })
  return { p, done, scanning: () => waitFor(() => /Scanning on hci0/.test(p.output.err), 'the CLI scanning', 30_000), err: () => p.output.err }
}

const secretFree = (t: Test, key: string, ...texts: string[]) => {
  for (const s of texts) t.notOk(s.toLowerCase().includes(key), 'the key appears nowhere')
}

t.test('lists what it hears, picks the pressed button, asks, writes the config; config check accepts it', async (t) => {
  const { file, sim } = await rig(t)
  const c = run(t, ['--config', file, '--seconds', '40'], 'door-button\nDoor button\nfront door\nsos\n')
  await c.scanning()
  sim.advertise(BTN, { rssi: -48, serviceData: plain(4) }) // beacon mode: baseline, no event
  sim.advertise(SEC, { rssi: -71, serviceData: secure(3, KEY, false) }) // listed; not a trigger device, so not a press
  sim.advertise(TAG, { rssi: -66, manufacturerData: { [APPLE_COMPANY_ID]: ibeaconManufacturerData(UUID, 7, 1) } })
  sim.advertise(EDDY, { rssi: -80, serviceData: { [EDDYSTONE_UUID]: eddystoneUid } })
  sim.advertise(RAW, { rssi: -90, manufacturerData: { 0x0006: Buffer.from([1, 2, 3]) } })
  await waitFor(() => [BTN, SEC, TAG, EDDY, RAW].every((a) => c.err().includes(`heard   ${a}`)), 'every device listed', 20_000)
  await sim.pressBurst(BTN, { rssi: -47, serviceData: plain(5, [BTHOME_BUTTON.PRESS]) }, 3, 20)
  const r = await c.done
  t.equal(r.code, 0, 'exit 0', { stderr: r.err })
  t.match(r.err, new RegExp(`heard +${SEC} +-71 dBm +BTHome v2 encrypted +counter 3`))
  t.match(r.err, new RegExp(`heard +${TAG} +-66 dBm +iBeacon +major 7 minor 1`))
  t.match(r.err, new RegExp(`heard +${EDDY} .*Eddystone`))
  t.match(r.err, new RegExp(`heard +${RAW} .*raw`))
  t.match(r.err, `picked ${BTN} — pressed`)
  t.match(r.out, /paired door-button/)
  const text = readFileSync(file, 'utf8')
  t.match(text, /# site config \(comments survive pairing\)/)
  const dev = loadConfig(file).devices.find((d) => d.id === 'door-button') as BleWhistleConfig
  t.match(dev, { kind: 'ble-whistle', address: BTN, format: 'bthome', alert_kind: 'sos', label: 'Door button', location: 'front door', key_ref: '' })
  t.notOk(existsSync(join(file, '..', 'secrets.yaml')), 'plaintext device: no secrets written')
  // The secrets file `safehouse init` would have made: run refuses a config whose secrets file is
  // missing, and so does config check since issue 14.
  writeFileSync(join(file, '..', 'secrets.yaml'), '{}\n', { mode: 0o600 })
  const check = await cliInProcess(['config', 'check', file]) // spawned in cli.test.ts
  t.equal(check.code, 0, 'exit 0', { stderr: check.err })
})

t.test('encrypted, paired again with --replace: key checked, stored 0600 under key_ref, never shown; stale replay counter cleared', async (t) => {
  const { dir, file, sim } = await rig(t, { devices: [`  - { id: sos-1, kind: ble-whistle, address: "${SEC}", key_ref: sos-1, alert_kind: sos, label: Counter, counter_reset: never, supervision_s: 3600 }`] })
  writeFileSync(join(dir, 'secrets.yaml'), `ble_keys:\n  sos-1: ${OLD_KEY}\n`, { mode: 0o600 })
  const data = join(dir, 'data')
  const seeded = await FileReplayCounterStore.open({ dir: data, clock: new FakeClock(), debounceMs: 0 })
  seeded.set(SEC, 5000) // the counter of the device before its factory reset
  await seeded.close()
  // As root (the usual way to run it on a Pi), the files must stay the service user's.
  const asRoot = process.getuid?.() === 0
  const owned = [file, join(dir, 'secrets.yaml'), join(data, 'ble-replay-counters.json')]
  if (asRoot) for (const f of owned) chownSync(f, 4321, 4321)
  // Defaults for id (the configured id), label, location, alert kind; then the key.
  const c = run(t, ['--config', file, '--seconds', '40', '--replace', '--json'], `\n\n\n\n${KEY.toUpperCase()}\n`)
  await c.scanning()
  sim.advertise(SEC, { rssi: -60, serviceData: secure(3) })
  await waitFor(() => c.err().includes(`heard   ${SEC}`), 'device listed', 20_000)
  await sim.pressBurst(SEC, { rssi: -58, serviceData: secure(4) }, 3, 20)
  const r = await c.done
  t.equal(r.code, 0, 'exit 0', { stderr: r.err })
  t.match(r.err, `picked ${SEC} — pressed (counter changed)`)
  t.same(JSON.parse(r.out), {
    id: 'sos-1', address: SEC, format: 'bthome', encrypted: true, alert_kind: 'sos', label: 'Counter', location: '',
    key_ref: 'sos-1', config: file, secrets_file: join(dir, 'secrets.yaml'), replay_counter_cleared: true,
  })
  const secretsFile = join(dir, 'secrets.yaml')
  t.equal(statSync(secretsFile).mode & 0o777, 0o600, 'secrets file mode 0600')
  const secrets = loadSecrets(secretsFile, {})
  t.equal(secrets.ble_keys['sos-1'], KEY)
  const configText = readFileSync(file, 'utf8')
  secretFree(t, KEY, r.out, r.err, configText)
  const config = loadConfig(file)
  const dev = config.devices.find((d) => d.id === 'sos-1') as BleWhistleConfig
  t.match(dev, { address: SEC, key_ref: 'sos-1', counter_reset: 'never', supervision_s: 3600, alert_kind: 'sos' }, 'other settings kept')
  t.equal(config.devices.filter((d) => d.id === 'sos-1').length, 1, 'replaced, not added')
  if (asRoot) t.same(owned.map((f) => statSync(f).uid), [4321, 4321, 4321], 'config, secrets and counters keep their owner')

  // What the gateway does at its next start: its counter store no longer holds 5000, so the
  // device's next packet (counter 5) is accepted even with counter_reset: never.
  const store = await FileReplayCounterStore.open({ dir: data, clock: new FakeClock() })
  t.equal(store.get(SEC), -1, 'replay counter cleared in the file')
  const sink = new RecordingSink()
  const rx = new WhistleReceiver({ devices: [{ index: 1, config: dev, key: secrets.ble_keys[dev.key_ref] }], sink, clock: new FakeClock(), replayStore: store })
  const advert: RawAdvert = { address: SEC, rssi: -60, time: Date.now(), serviceData: new Map([[BTHOME_UUID, secure(5)[BTHOME_UUID]]]), manufacturerData: null, cached: false }
  rx.onAdvert(advert)
  t.ok(sink.inputs.some((i) => i.device === 1 && i.kind === Kind.SOS), 'the re-paired device raises its alert')
  await store.close()
})

t.test('a wrong key is refused: exit 1, nothing written, the key not echoed', async (t) => {
  const { dir, file, sim } = await rig(t)
  sim.addDevice(SEC, { rssi: -62, serviceData: secure(9) }) // in BlueZ's cache: --address needs no press
  const before = readFileSync(file, 'utf8')
  const c = run(t, ['--config', file, '--address', SEC.toLowerCase(), '--id', 'sos-2', '--label', 'x', '--location', 'y', '--alert-kind', 'sos', '--key-stdin'], `${WRONG}\n`)
  const r = await c.done
  t.equal(r.code, 1)
  t.match(r.err, `picked ${SEC} — given with --address`)
  t.match(r.err, /does not decrypt/)
  secretFree(t, WRONG, r.out, r.err)
  t.equal(readFileSync(file, 'utf8'), before, 'config untouched')
  t.notOk(existsSync(join(dir, 'secrets.yaml')), 'no secrets file')
})

t.test('a duplicate id is refused without --replace (flag: usage error; answer: failure)', async (t) => {
  const { file, sim } = await rig(t)
  // Refused before scanning, as a usage error (exit 2 through cli.ts).
  await t.rejects(pairBle(['--config', file, '--id', 'door-panic']), { constructor: UsageError, message: /already in the config.*--replace/ })
  sim.addDevice(BTN, { rssi: -50, serviceData: plain(1) })
  const before = readFileSync(file, 'utf8')
  const r = await run(t, ['--config', file, '--address', BTN], 'door-panic\n').done
  t.equal(r.code, 1)
  t.match(r.err, /"door-panic" is already in the config: choose another id, or pass --replace/)
  t.equal(readFileSync(file, 'utf8'), before, 'config untouched')
})

t.test('no bluetoothd on the bus, or a policy that denies it: exit 1 naming what to check', async (t) => {
  const none = await rig(t, { noBluetoothd: true })
  const denied = await rig(t, { bus: { denyBluez: true } })
  // Two independent processes, side by side (issue 14 §5).
  const [r, d] = await Promise.all([
    cli(['pair', 'ble', '--config', none.file, '--seconds', '5']),
    cli(['pair', 'ble', '--config', denied.file, '--seconds', '5']),
  ])
  t.equal(r.code, 1)
  t.match(r.err, /bluetoothd is not running/)
  t.match(r.err, /systemctl status bluetooth/)
  t.match(r.err, /safehouse install/)
  t.match(r.err, /group\s+bluetooth/)
  t.equal(d.code, 1)
  t.match(d.err, /D-Bus policy denies/)
})

t.test('nothing pressed within --seconds: exit 1, config untouched', async (t) => {
  const { file, sim } = await rig(t)
  const before = readFileSync(file, 'utf8')
  const c = run(t, ['--config', file, '--seconds', '2'], '')
  await c.scanning()
  sim.advertise(TAG, { rssi: -66, manufacturerData: { [APPLE_COMPANY_ID]: ibeaconManufacturerData(UUID, 7, 1) } })
  const r = await c.done
  t.equal(r.code, 1)
  t.match(r.err, /nothing was pressed within 2 s/)
  t.equal(readFileSync(file, 'utf8'), before)
})

t.test('two buttons pressed at once: asks which one', async (t) => {
  const { file, sim } = await rig(t)
  const c = run(t, ['--config', file, '--seconds', '40'], '2\nback-door\n\n\nwhistle\n')
  await c.scanning()
  // Trigger-based buttons advertise only when pressed: their first packet is a press.
  sim.advertise(BTN, { rssi: -50, serviceData: plain(1, [BTHOME_BUTTON.PRESS], true) })
  sim.advertise(BTN2, { rssi: -70, serviceData: plain(1, [BTHOME_BUTTON.DOUBLE], true) })
  const r = await c.done
  t.equal(r.code, 0, 'exit 0', { stderr: r.err })
  t.match(r.err, /2 devices were pressed at the same time/)
  t.match(r.err, `picked ${BTN2} — pressed (double press)`)
  const dev = loadConfig(file).devices.find((d) => d.id === 'back-door') as BleWhistleConfig
  t.equal(dev.address, BTN2)
})

t.test('--help prints usage and examples; bad flags are usage errors', async (t) => {
  const h = await cli(['pair', 'ble', '--help'])
  t.equal(h.code, 0)
  t.match(h.out, /usage: safehouse pair ble/)
  t.match(h.out, /Examples:/)
  await t.rejects(pairBle(['--address', 'nope']), { constructor: UsageError, message: /not a BLE address/ })
  await t.rejects(pairBle(['--seconds', '0']), { constructor: UsageError, message: /--seconds must be/ })
  await t.rejects(pairBle(['--alert-kind', 'fire']), { constructor: UsageError, message: /whistle, sos, panic, test/ })
})

t.test('press rule: new packet id with an event, counter change, iBeacon press minor; baselines and repeats are not presses', async (t) => {
  const table = new CandidateTable(new Map([[TAG, 'tag-1']]))
  const presses: string[] = []
  table.events = { onPress: (c) => presses.push(`${c.address} ${c.pressWhy}`) }
  let now = 1000
  const advert = (address: string, o: Partial<RawAdvert>): void => table.onAdvert({ address, rssi: -60, time: now++, serviceData: null, manufacturerData: null, cached: false, ...o })
  const sd = (s: Record<string, Buffer>) => new Map(Object.entries(s))
  advert(BTN, { serviceData: sd(plain(7, [BTHOME_BUTTON.PRESS])), cached: true }) // BlueZ's cache: baseline
  advert(BTN, { serviceData: sd(plain(7, [BTHOME_BUTTON.PRESS])) }) // same packet id: a repeat
  advert(BTN, { serviceData: sd(plain(8)) }) // new id, no event
  t.same(presses, [])
  advert(BTN, { serviceData: sd(plain(9, [BTHOME_BUTTON.LONG])) })
  advert(BTN, { serviceData: sd(plain(9, [BTHOME_BUTTON.LONG])) })
  t.same(presses, [`${BTN} long press`], 'one press per packet id')
  advert(SEC, { serviceData: sd(secure(20, KEY, false)) }) // first sight, not trigger-based: baseline
  advert(SEC, { serviceData: sd(secure(20, KEY, false)) })
  advert(SEC, { serviceData: sd(secure(21, KEY, false)) }) // right after: a sensor on a timer
  now += 15_000
  advert(SEC, { serviceData: sd(secure(22, KEY, false)) }) // after a quiet spell: a press
  advert(SEC, { serviceData: sd(secure(23, KEY, false)) })
  t.same(presses.slice(1), [`${SEC} counter changed`], 'a non-trigger encrypted device: only a change after a quiet spell')
  const trig = new CandidateTable()
  const seen: string[] = []
  trig.events = { onPress: (c) => seen.push(c.pressWhy) }
  trig.onAdvert({ address: SEC, rssi: -60, time: now, serviceData: sd(secure(5)), manufacturerData: null, cached: true })
  trig.onAdvert({ address: SEC, rssi: -60, time: now + 1, serviceData: sd(secure(6)), manufacturerData: null, cached: false })
  trig.onAdvert({ address: SEC, rssi: -60, time: now + 2, serviceData: sd(secure(6)), manufacturerData: null, cached: false })
  t.same(seen, ['counter changed'], 'a trigger device: every new counter is a press, repeats are not')
  const ib = (minor: number) => ({ manufacturerData: new Map([[APPLE_COMPANY_ID, ibeaconManufacturerData(UUID, 7, minor)]]) })
  advert(TAG, ib(1))
  advert(TAG, ib(99))
  advert(TAG, ib(99))
  advert(TAG, ib(1))
  t.same(presses.slice(2), [`${TAG} minor 1 -> 99`], 'going back to the normal minor is not a press')
  t.equal(table.byAddress.get(TAG)!.pressMinor, 99)
  t.equal(table.byAddress.get(TAG)!.configuredAs, 'tag-1')
  advert(RAW, { manufacturerData: new Map([[6, Buffer.from([1])]]) })
  t.equal(table.byAddress.get(RAW)!.format, 'raw')
})
