/**
 * `safehouse pair ble` (issue 7 §2): scan with the gateway's own BlueZ
 * transport, list what is heard, pick the device the technician presses (or
 * --address), ask for its id, label, location, alert kind and (encrypted
 * BTHome) its key, check the key against the device's own packet, then write
 * the config entry, the key in the secrets file, and clear any stored replay
 * counter for the address. docs/devices/ble.md "Pairing" is the guide.
 */
import { parseArgs } from 'node:util'
import { normalizeBleAddress } from '../../protocols/ble/ble-address.js'
import { parseFlags, UsageError } from '../commands/usage-error.js'
import { DEFAULT_CONFIG, deviceIds, loadConfigForCommand, readConfigDocument } from '../shared/config-file.js'
import { Prompter } from '../shared/prompter.js'
import { CandidateTable, detailOf, formatLabel, type Candidate } from './ble-candidates.js'
import { LiveList } from './ble-display.js'
import { chooseOne, waitForPick } from './ble-pick.js'
import { ALERT_KINDS, askDetails, idProblem, type GivenAnswers } from './ble-questions.js'
import { existingEntry, saveBleDevice, type PairedBle } from './ble-save.js'
import { BleScan, ScanError } from './ble-scan.js'
import { type CliIO, println, processIO } from '../cli-io.js'


const USAGE = `usage: safehouse pair ble [--config FILE] [--seconds N] [--address AA:BB:CC:DD:EE:FF]
                         [--id ID] [--label L] [--location L] [--alert-kind KIND]
                         [--key-stdin] [--replace] [--json]

Scans with BlueZ (the adapter and bus of the config's ble: section) and lists the BLE
devices it hears on stderr: address, signal, format (BTHome v2, iBeacon, Eddystone, raw),
encrypted or not. Press the button of the device to pair: the one whose packet changes
(a new BTHome packet id or encryption counter, an iBeacon press minor) is picked. Then it
asks, one by one: device id, label, location, alert kind, and for an encrypted BTHome
device its key (32 hex digits; hidden, never shown or written to the config). The key
is checked by decrypting the device's packet, then stored in the secrets file under
key_ref; the device goes into the config (validated, atomic). Restart the gateway to
load it.

Options:
  --config FILE      site config (default ${DEFAULT_CONFIG})
  --seconds N        how long to wait for a press (default 60)
  --address ADDR     pick this device without pressing (scripts; Eddystone tags)
  --id, --label, --location, --alert-kind (${ALERT_KINDS.join('|')})
                     answers given here are not asked
  --key-stdin        read the key as a line from stdin (scripts), even on a terminal
  --replace          overwrite the device with the same id (pair a device again)
  --json             print the result as JSON on stdout

In a script, answers that are not given as flags are read from stdin, one per line, in
the order above. Exit codes: 0 paired, 1 failed (nothing pressed, no BlueZ, wrong key),
2 usage error.

Examples:
  safehouse pair ble --config /etc/safehouse/config.yaml
  safehouse pair ble --seconds 120 --replace            # pair sos-counter again after a key change
  echo "$KEY" | safehouse pair ble --address A4:C1:38:00:00:07 --id sos-counter \\
      --label "SOS counter" --location "front desk" --alert-kind sos --key-stdin --json`

export async function pairBle(argv: string[], io: CliIO = processIO()): Promise<number> {
  const { values: v } = parseFlags(() => parseArgs({ args: argv, options: {
    config: { type: 'string', short: 'c' }, seconds: { type: 'string' }, address: { type: 'string' },
    id: { type: 'string' }, label: { type: 'string' }, location: { type: 'string' }, 'alert-kind': { type: 'string' },
    'key-stdin': { type: 'boolean' }, replace: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  } }))
  if (v.help) {
    println(io.stdout, USAGE)
    return 0
  }
  const file = v.config ?? DEFAULT_CONFIG
  const seconds = v.seconds === undefined ? 60 : Number(v.seconds)
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) throw new UsageError('--seconds must be a whole number from 1 to 3600')
  const address = v.address === undefined ? null : normalizeBleAddress(v.address)
  if (v.address !== undefined && address === null) throw new UsageError(`--address "${v.address}" is not a BLE address like A4:C1:38:00:00:07`)
  if (v['alert-kind'] !== undefined && !(ALERT_KINDS as readonly string[]).includes(v['alert-kind'])) throw new UsageError(`--alert-kind must be one of ${ALERT_KINDS.join(', ')}`)
  const replace = !!v.replace

  const config = loadConfigForCommand(file)
  const doc = readConfigDocument(file)
  const ids = deviceIds(doc)
  const configured = new Map<string, string>()
  for (const d of config.devices) if (d.kind === 'ble-whistle') configured.set(d.address.toUpperCase(), d.id)
  if (v.id !== undefined) {
    const problem = idProblem(v.id, { ids, replace, addressOwner: null, address: '' })
    if (problem !== null) throw new UsageError(`--id ${v.id}: ${problem}`)
  }
  if (address !== null && configured.has(address) && !replace) throw new Error(`${address} is already configured as "${configured.get(address)}": to pair it again, run with --replace`)
  const say = (s: string): void => { io.stderr.write(s + '\n') }
  if (config.ble.driver !== 'bluez') say(`note: ble.driver is ${config.ble.driver} in ${file}: the gateway will not hear BLE devices until it is set to bluez`)

  // --- scan and pick ---------------------------------------------------------
  const table = new CandidateTable(configured)
  const list = new LiveList(io.stderr, !!io.stderr.isTTY, () => table.byAddress.values())
  const scan = new BleScan(config.ble, table, (a, n) => table.setName(a, n))
  table.onNewAddress = (a) => scan.requestName(a)
  table.events = { onChange: (c, isNew) => list.changed(c, isNew) }
  const cancel = new AbortController()
  const onSigint = (): void => cancel.abort()
  process.once('SIGINT', onSigint)
  let pressed: Candidate[]
  try {
    try {
      await scan.start()
    } catch (e) {
      if (e instanceof ScanError) { say(e.message); return 1 }
      throw e
    }
    list.note(address !== null
      ? `Scanning on ${config.ble.adapter} for ${address} (up to ${seconds} s)...`
      : `Scanning on ${config.ble.adapter}. Press the button of the device to pair (waiting up to ${seconds} s; Ctrl-C stops):`)
    pressed = await waitForPick(table, list, { address, seconds, replace, cancel: cancel.signal })
  } catch (e) {
    list.stop()
    say(`safehouse pair ble: ${(e as Error).message}`)
    return 1
  } finally {
    process.removeListener('SIGINT', onSigint)
    list.stop()
    await scan.stop()
  }

  // --- questions ---------------------------------------------------------------
  const prompter = new Prompter({ input: io.stdin, output: io.stderr }, { script: !!v['key-stdin'] })
  try {
    const c = await chooseOne(prompter, pressed, say)
    const how = address !== null ? `given with --address${c.live ? '' : ' (BlueZ had it cached)'}` : c.pressWhy === 'press' ? 'pressed' : `pressed (${c.pressWhy})`
    say(`picked ${c.address} — ${how}: ${formatLabel(c)}${detailOf(c) ? `, ${detailOf(c)}` : ''}${c.name ? `, name ${c.name}` : ''}`)
    const addressOwner = configured.get(c.address) ?? null
    if (addressOwner !== null && !replace) throw new Error(`${c.address} is already configured as "${addressOwner}": to pair it again, run with --replace`)
    const rules = { ids, replace, addressOwner, address: c.address }
    if (v.id !== undefined) {
      const problem = idProblem(v.id, rules)
      if (problem !== null) throw new Error(`--id ${v.id}: ${problem}`)
    }
    const encrypted = c.format === 'bthome' && c.encrypted
    if (encrypted && config.secrets_file === null) throw new Error(`${c.address} sends encrypted BTHome, and its key goes into the secrets file, but ${file} has no secrets_file: add "secrets_file: /etc/safehouse/secrets.yaml" and pair again`)
    if (!encrypted && v['key-stdin']) throw new Error(`--key-stdin was given, but ${c.address} sends ${formatLabel(c)} (no key): is it the right device?`)
    if (c.format === 'ibeacon' && c.pressMinor < 0) say('  (no press seen from this iBeacon: it is paired for presence only; press it during pairing to learn its press minor)')
    if (c.format === 'eddystone') say('  (Eddystone tags report presence and battery only; they raise no alerts)')
    const given: GivenAnswers = { id: v.id, label: v.label, location: v.location, alertKind: v['alert-kind'] }
    const previousId = v.id ?? addressOwner
    const a = await askDetails(prompter, c, given, rules, previousId !== null ? existingEntry(doc, previousId) : null)
    const device: PairedBle = {
      id: a.id, address: c.address, format: c.format as PairedBle['format'], label: a.label, location: a.location,
      alertKind: a.alertKind, keyHex: a.keyHex,
      ibeacon: c.format === 'ibeacon' ? { uuid: c.ibeaconUuid, major: c.ibeaconMajor, pressMinor: c.pressMinor } : null,
    }
    if (encrypted) say('  key checked: it decrypts the device\'s packet')
    const r = await saveBleDevice(file, device, replace)
    for (const w of r.warnings) say(`warning: ${w}`)
    const result = {
      id: device.id, address: device.address, format: device.format, encrypted, alert_kind: device.alertKind,
      label: device.label, location: device.location, key_ref: r.keyRef, config: file, secrets_file: r.secretsFile,
      replay_counter_cleared: r.clearedCounter >= 0,
    }
    if (v.json) println(io.stdout, JSON.stringify(result))
    else {
      println(io.stdout, `paired ${device.id} (${device.address}, ${formatLabel(c)}) into ${file}${r.keyRef ? `; key stored in ${r.secretsFile} as ${r.keyRef}` : ''}`)
      if (r.clearedCounter >= 0) println(io.stdout, `cleared the stored replay counter for ${device.address} (was ${r.clearedCounter}), so the device is accepted again`)
      println(io.stdout, 'restart the gateway to load it (sudo systemctl restart safehouse), then press the device once and watch: safehouse status')
    }
    return 0
  } finally {
    prompter.close()
  }
}
