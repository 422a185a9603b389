/** `safehouse pair ble|button|lamp` (issue 7 §2): one file per device kind in provisioning/pair/. */
import { UsageError, asSubcommand } from './usage-error.js'
import { type CliIO, println, processIO } from '../cli-io.js'

const USAGE = `usage: safehouse pair ble|button|lamp [options]

  pair ble      list nearby BLE whistles and SOS buttons; press one to pick it; add it to the config
  pair button   press a wired panic button to learn its pin; check a supervised loop's resistance
  pair lamp     probe Modbus unit ids on the RS-485 adapter and report what answers

Run 'safehouse pair KIND --help' for options and examples.`

/** Each kind's modules (BlueZ, johnny-five, modbus) load only when it runs (issue 13 §5). */
const kinds: Record<string, () => Promise<(argv: string[], io: CliIO) => Promise<number>>> = {
  ble: async () => (await import('../pair/pair-ble.js')).pairBle,
  button: async () => (await import('../pair/pair-button.js')).pairButton,
  lamp: async () => (await import('../pair/pair-lamp.js')).pairLamp,
}

export async function pair(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [kind, ...rest] = argv
  if (kind === '--help' || kind === '-h') {
    println(io.stdout, USAGE)
    return 0
  }
  const load = kind && Object.hasOwn(kinds, kind) ? kinds[kind] : undefined
  if (!load) throw new UsageError(kind ? `unknown device kind "${kind}" (ble, button or lamp)` : 'give the device kind: ble, button or lamp')
  const fn = await load()
  return asSubcommand(`pair ${kind}`, () => fn(rest, io))
}
