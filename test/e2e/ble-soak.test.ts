/**
 * Randomised fault soak of a BLE whistle on the real stack (issue 11): the
 * BlueZ simulation on a private dbus-daemon misbehaves the way field hardware
 * does (the adapter unplugged, bluetoothd crashing and coming back, a slow
 * bluetoothd, a device babbling random bytes from the whistle's own address,
 * a replayed old press, the whistle going silent, two of these at once) in a
 * seeded mix with real presses of an encrypted BTHome SOS button that also
 * beacons (supervised), through the gateway (`ble.driver: bluez`) to a
 * mosquitto station that acknowledges everything. After EVERY step: every
 * real press gave exactly one alert, no alert came without a cause, every
 * fault was reported within its bound (a scanner fault in the gateway state,
 * a silent whistle as `missing`) and every restore arrived.
 *
 * ~15 s by default (npm test); SAFEHOUSE_SOAK=long (.ci/run) runs 3 minutes; SAFEHOUSE_SOAK_SEED=<seed> repeats a run.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { Mosquitto } from '../harness/mosquitto.js'
import { PrivateBus } from '../harness/bluez-sim-bus.js'
import { BluezSim } from '../harness/bluez-sim.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { seededRandom } from '../harness/seeded-random.js'
import { SoakLedger, sleep, soakMs, type SoakAlert } from '../harness/soak-ledger.js'
import { Kind } from '../../protocols/event-kinds.js'
import { BTHOME_UUID } from '../../devices/ble-whistle/raw-advert.js'
import { bthomeEncrypted, BTHOME_BUTTON } from '../../devices/ble-whistle/sim-ble-whistle.js'

const DURATION_MS = soakMs(15_000, 180_000)
const SEED = Number(process.env.SAFEHOUSE_SOAK_SEED ?? Date.now() % 1_000_000)
const ROOT = 'safehouse/v1/test-city/kiosk-001'
const SOS = 'AA:BB:CC:00:52:01'
const KEY = '231d39c1d7cc1ab1aee224cd096db932'
const SUPERVISION_S = 6 // above the longest scanner outage a step makes (adapter out ~2 s, a slow bluetoothd restart ~3 s)
const TICK_MS = 100
const BEACON_MS = 600
/** Room for a loaded 2-core machine on top of each documented bound. */
const SLACK_MS = 1500

t.setTimeout(DURATION_MS + 120_000)

t.test(`BLE whistle fault soak, ${DURATION_MS / 1000} s, seed ${SEED}`, async (t) => {
  t.comment(`seed ${SEED} (SAFEHOUSE_SOAK_SEED)`)
  const rnd = seededRandom(SEED)
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const bus = await new PrivateBus().open()
  t.teardown(() => bus.close())
  const sim = await new BluezSim(bus.address).start()
  t.teardown(() => sim.stop())
  const { gw, cleanup } = await testGateway({
    stationUrl: mosq.url,
    bleKeys: { sos: KEY },
    extra: {
      core: { tick_ms: TICK_MS },
      ble: { driver: 'bluez', bus_address: bus.address, retry_min_ms: 100, retry_max_ms: 400 },
      devices: [{ id: 'sos-1', kind: 'ble-whistle', address: SOS, alert_kind: 'sos', key_ref: 'sos', supervision_s: SUPERVISION_S }],
    },
  })
  t.teardown(cleanup)
  const station = await mqtt.connectAsync(mosq.url, { clientId: `station-ble-soak-${SEED}` })
  t.teardown(() => station.endAsync())
  const alerts: SoakAlert[] = []
  let bleState: { status: string; reason: string } | null = null
  station.on('message', (topic, p) => {
    const j = JSON.parse(p.toString())
    if (topic.includes('/alert/')) {
      alerts.push({ kind: j.kind, device: j.device, value: j.value, at: Date.now() })
      void station.publishAsync(`${ROOT}/ack`, JSON.stringify({ id: j.id, by: 'soak' }), { qos: 1 })
    } else if (topic === `${ROOT}/state` && j.ble) bleState = j.ble
  })
  await station.subscribeAsync([`${ROOT}/alert/+`, `${ROOT}/state`], { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink')
  await until(() => sim.discovering, 'discovery', 10_000)

  const key = Buffer.from(KEY, 'hex')
  let counter = 1000
  let packetId = 0
  const sent: Buffer[] = []
  const packet = (buttons: number[]): Buffer => {
    packetId = (packetId + 1) % 256
    const b = bthomeEncrypted({ packetId, buttons, battery: 90 }, key, SOS, ++counter)
    sent.push(b)
    return b
  }
  // The button beacons (battery, no button event) while alive: its supervision heartbeat.
  let beaconing = true
  const beacon = setInterval(() => { if (beaconing) sim.advertise(SOS, { rssi: -60, serviceData: { [BTHOME_UUID]: packet([]) } }) }, BEACON_MS)
  t.teardown(() => clearInterval(beacon))

  const ledger = new SoakLedger(alerts)
  const missingBound = SUPERVISION_S * 1000 + BEACON_MS + TICK_MS + SLACK_MS // last beacon + interval + one tick
  const restoreBound = BEACON_MS + SLACK_MS
  let presses = 0
  const counts = new Map<string, number>()
  const scannerFaults: number[] = []

  const scanning = async (): Promise<void> => {
    await until(() => sim.discovering && gw.state.status[0] === 'online', 'the scanner back', 15_000)
  }
  /** A scanner outage must show in the retained gateway state within 2 s (+ slack). */
  const faultShown = async (what: string): Promise<void> => {
    const at = Date.now()
    await until(() => bleState?.status === 'fault', `${what}: ble fault in the gateway state`, 2000 + SLACK_MS)
    scannerFaults.push(Date.now() - at)
  }
  const steps: Record<string, () => Promise<void>> = {
    press: async () => {
      const b = packet([BTHOME_BUTTON.PRESS])
      presses++
      ledger.expect({ kind: 'sos', device: 'sos-1', boundMs: 1000, what: `press ${presses}` })
      await sim.pressBurst(SOS, { rssi: -55, serviceData: { [BTHOME_UUID]: b } }, 3, 20)
    },
    'babble from the button\'s address and strangers': async () => {
      sim.babble(SOS, 40, rnd)
      sim.babble(`F2:00:00:00:00:${Math.floor(rnd() * 200 + 16).toString(16).toUpperCase()}`, 40, rnd)
    },
    'an old press replayed': async () => {
      const old = sent[Math.floor(rnd() * Math.max(1, sent.length - 5))]
      if (old) await sim.pressBurst(SOS, { rssi: -55, serviceData: { [BTHOME_UUID]: old } }, 2, 20)
    },
    'adapter unplugged for 1 s': async () => {
      sim.removeAdapter()
      await faultShown('adapter unplugged')
      await sleep(1000)
      sim.addAdapter()
      await scanning()
    },
    'bluetoothd crashes and restarts slowly': async () => {
      sim.callDelayMs = 300
      await sim.crashBluetoothd()
      await faultShown('bluetoothd gone')
      await sleep(500)
      await sim.restartBluetoothd()
      await scanning()
      sim.callDelayMs = 0
    },
    'the button goes silent, then beacons again': async () => {
      beaconing = false
      ledger.expect({ kind: 'missing', device: 'sos-1', boundMs: missingBound, what: 'button silent' })
      await verify()
      beaconing = true
      ledger.expect({ kind: 'restored', device: 'sos-1', value: Kind.MISSING, boundMs: restoreBound, what: 'button heard again' })
    },
    'adapter unplugged AND the button silent (two ways at once)': async () => {
      beaconing = false
      sim.removeAdapter()
      ledger.expect({ kind: 'missing', device: 'sos-1', boundMs: missingBound, what: 'button unheard (adapter gone, button silent)' })
      await faultShown('adapter unplugged with the button silent')
      await verify()
      sim.addAdapter()
      await scanning()
      beaconing = true
      ledger.expect({ kind: 'restored', device: 'sos-1', value: Kind.MISSING, boundMs: restoreBound, what: 'button heard again' })
    },
  }
  const names = Object.keys(steps)
  let stepNo = 0
  let current = ''
  async function verify(): Promise<void> {
    const problems = await ledger.check(400, 20_000)
    if (problems.length) t.fail(`step ${stepNo} (${current}): ${problems.join('; ')}`)
  }
  const end = Date.now() + DURATION_MS
  while (Date.now() < end) {
    stepNo++
    current = rnd() < 0.35 ? 'press' : names[1 + Math.floor(rnd() * (names.length - 1))]
    counts.set(current, (counts.get(current) ?? 0) + 1)
    await steps[current]()
    await verify()
  }
  // The run always ends with a press after its last fault: the device must still work once the
  // faults are over, and a short run whose random steps were all faults (seed 13811 drew 5) still
  // proves the press path.
  stepNo++
  current = 'press'
  counts.set(current, (counts.get(current) ?? 0) + 1)
  await steps[current]()
  await verify()
  t.comment(`${stepNo} steps: ${[...counts].map(([k, v]) => `${k} ×${v}`).join(', ')}`)
  t.comment(`measured cause -> station: ${ledger.summary()}; scanner fault -> gateway state: ${scannerFaults.length ? `max ${Math.max(...scannerFaults)} ms` : 'none'}`)
  const dev = gw.devices.entries.find((e) => e.id === 'sos-1')!.index
  t.comment(`sos-1 counters: ${JSON.stringify(Object.fromEntries(gw.state.counters[dev]))}; ble: ${JSON.stringify(Object.fromEntries(gw.state.counters[0]))}`)
  t.ok(presses > 0, `${presses} presses, each exactly one alert`)
  t.same(gw.state.activeFaults(dev), [], 'no fault left standing')
})
