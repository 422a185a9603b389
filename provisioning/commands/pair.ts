/** `safehouse pair ble|button|lamp` (issue 7 §2): one file per device kind in provisioning/pair/. */
import { pairBle } from '../pair/pair-ble.js'
import { pairButton } from '../pair/pair-button.js'
import { pairLamp } from '../pair/pair-lamp.js'
import { UsageError, asSubcommand } from './usage-error.js'

const USAGE = `usage: safehouse pair ble|button|lamp [options]

  pair ble      list nearby BLE whistles and SOS buttons; press one to pick it; add it to the config
  pair button   press a wired panic button to learn its pin; check a supervised loop's resistance
  pair lamp     probe Modbus unit ids on the RS-485 adapter and report what answers

Run 'safehouse pair KIND --help' for options and examples.`

const kinds: Record<string, (argv: string[]) => Promise<number>> = { ble: pairBle, button: pairButton, lamp: pairLamp }

export async function pair(argv: string[]): Promise<number> {
  const [kind, ...rest] = argv
  if (kind === '--help' || kind === '-h') {
    console.log(USAGE)
    return 0
  }
  const fn = kind ? kinds[kind] : undefined
  if (!fn) throw new UsageError(kind ? `unknown device kind "${kind}" (ble, button or lamp)` : 'give the device kind: ble, button or lamp')
  return asSubcommand(`pair ${kind}`, () => fn(rest))
}
