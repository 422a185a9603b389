/**
 * `safehouse pair button` (issue 7 §2): learn a wired panic button's input by
 * pressing it, check a supervised loop's wiring, and add the button to the
 * config. Firmata boards (default) or the Pi's own GPIO (--gpio).
 *
 * Steps: validate the config and flags (before touching hardware) -> open
 * the board -> report the inputs -> wait for the press -> ask id, label,
 * location -> refuse a taken id or input -> write (validated, atomic).
 */
import { parseArgs } from 'node:util'
import { PromptError, Prompter } from '../shared/prompter.js'
import { DEFAULT_CONFIG, loadConfigForCommand } from '../shared/config-file.js'
import { parseFlags, UsageError } from '../commands/usage-error.js'
import { panicButtonDefaults, type PanicButtonConfig } from '../../devices/panic-button/config.js'
import type { DeviceConfig } from '../../gateway/config/config-types.js'
import { DEFAULT_LEARN } from './button-learn.js'
import { FirmataPairBoard } from './button-firmata-board.js'
import { learnOnBoard, type FirmataLearned } from './button-firmata-learn.js'
import { findOverlay, learnGpioKey } from './button-gpio-learn.js'
import { formatOhms } from './button-loop-check.js'
import {
  baseButton, chooseBoard, idProblem, inputOwner, keptFields, writeButton, type BoardChoice,
} from './button-config.js'
import { type CliIO, println, processIO } from '../cli-io.js'

const GPIO_DEVICE = panicButtonDefaults('x').input_device
const BOOT_CONFIGS = ['/boot/firmware/config.txt', '/boot/config.txt']

const HELP = `usage: safehouse pair button [--config FILE] [--board ID | --port PATH] [--loop N] [--gpio]
                            [--seconds N] [--id ID] [--label L] [--location L] [--replace] [--json]

Press-to-learn a wired panic button and add it to the config. The command opens the
Firmata board, shows what every input reads, and waits for you to press the button (and
release it): the input that changes is the button's. Supervised loops (end-of-line
resistors on an analog pin) are learned the same way, or checked with --loop.
Stop the gateway first (sudo systemctl stop safehouse): it holds the board's port.

Options:
  --config FILE        site config to add the button to (default ${DEFAULT_CONFIG})
  --board ID           the board of the config to use (default: the only one)
  --port PATH          the board's serial port; a board with this port is added to the
                       config if there is none (prefer /dev/serial/by-id/... names)
  --loop N             check the supervised loop on analog pin AN (0 = A0): shows its
                       resistance and state; an open or shorted loop is saved only if you confirm
  --no-pullup          digital inputs without the board's pull-up (external resistor)
  --gpio               the Pi's own GPIO (dtoverlay=gpio-key) instead of a Firmata board
  --input-device PATH  gpio: the input device (default ${GPIO_DEVICE})
  --pin N              gpio: the BCM GPIO line, for the record (default: from the dtoverlay line)
  --seconds N          how long to wait for the press (default 60)
  --id ID, --label L, --location L
                       the device's id, label and location (asked when not given)
  --replace            overwrite the device with this id (its other settings, e.g. alert_kind, are kept)
  --json               print the result as JSON on stdout

Examples:
  safehouse pair button --port /dev/serial/by-id/usb-1a86_USB_Serial-if00-port0
  safehouse pair button --board main --id counter --label "Counter button" --location "under the counter"
  safehouse pair button --loop 0 --id outside --label "Public button"
  safehouse pair button --gpio --id foot --seconds 120
  printf 'counter\\nCounter button\\nunder the counter\\n' | safehouse pair button --config ./config.yaml`

export async function pairButton(argv: string[], io: CliIO = processIO()): Promise<number> {
  const { values } = parseFlags(() => parseArgs({ args: argv, allowNegative: true, options: {
    config: { type: 'string', short: 'c' }, board: { type: 'string' }, port: { type: 'string' }, loop: { type: 'string' },
    pullup: { type: 'boolean', default: true }, gpio: { type: 'boolean' }, 'input-device': { type: 'string' }, pin: { type: 'string' },
    seconds: { type: 'string' }, id: { type: 'string' }, label: { type: 'string' }, location: { type: 'string' },
    replace: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  } }), '; see safehouse pair button --help')
  if (values.help) { println(io.stdout, HELP); return 0 }
  const file = values.config ?? DEFAULT_CONFIG
  const replace = !!values.replace
  const seconds = values.seconds === undefined ? 60 : Number(values.seconds)
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3600) throw new UsageError('--seconds must be a whole number of seconds, 1-3600')
  const loopChannel = values.loop === undefined ? undefined : Number(values.loop.replace(/^A/i, ''))
  if (loopChannel !== undefined && !(Number.isInteger(loopChannel) && loopChannel >= 0 && loopChannel <= 15)) throw new UsageError('--loop takes an analog input number, 0-15 (0 = A0)')
  const gpioPin = values.pin === undefined ? undefined : Number(values.pin)
  if (gpioPin !== undefined && !(Number.isInteger(gpioPin) && gpioPin >= 0 && gpioPin <= 127)) throw new UsageError('--pin takes a BCM GPIO number, 0-127')
  if (values.gpio && (values.board || values.port || loopChannel !== undefined || values.pullup === false)) {
    throw new UsageError('--gpio reads the Pi\'s own GPIO: --board, --port, --loop and --no-pullup are for Firmata boards (the Pi has no analog input)')
  }
  if (!values.gpio && (values['input-device'] || gpioPin !== undefined)) throw new UsageError('--input-device and --pin are for --gpio')

  const config = loadConfigForCommand(file)
  if (values.id !== undefined) {
    const problem = idProblem(config, values.id, replace)
    if (problem) throw (problem.startsWith('use ') ? new UsageError(`--id "${values.id}": ${problem}`) : new Error(problem))
  }
  const prompter = new Prompter({ input: io.stdin, output: io.stderr })
  const say = (s: string): void => prompter.say(s)
  try {
    const base = baseButton(config, values.id, replace)
    let paired: Record<string, unknown>
    let choice: BoardChoice | null = null
    let learned: FirmataLearned | null = null
    let defaultLabel = base.label
    if (values.gpio) {
      const inputDevice = values['input-device'] ?? GPIO_DEVICE
      const got = await learnGpioKey({ inputDevice, seconds, say, learn: { ...DEFAULT_LEARN, settleMs: base.debounce_ms } })
      const overlay = findOverlay(BOOT_CONFIGS, got.keyCode)
      say(`Learned: key code ${got.keyCode} (${got.how})${overlay ? `, GPIO${overlay.gpio} per the dtoverlay line` : ''}.`)
      const pin = gpioPin ?? overlay?.gpio
      paired = { driver: 'gpio', ...(pin !== undefined ? { pin } : {}), key_code: got.keyCode, ...(inputDevice !== GPIO_DEVICE ? { input_device: inputDevice } : {}) }
      if (!defaultLabel && overlay?.label) defaultLabel = overlay.label
    } else {
      choice = await chooseBoard(config, { board: values.board, port: values.port })
      say(`Opening board "${choice.board.id}" on ${choice.board.port} (a Nano or Uno restarts when its port opens: a few seconds)...`)
      const board = await FirmataPairBoard.open(choice.board)
      try {
        say(`Board "${choice.board.id}": ${board.firmware}.`)
        learned = await learnOnBoard(board, {
          pullup: values.pullup !== false, seconds, loop: base, loopChannel, say,
          // no answer in a script = the default, no: the loop is refused with what to fix
          confirm: (q) => prompter.confirm(q, false).catch((e: unknown) => { if (e instanceof PromptError) return false; throw e }),
        })
      } finally {
        await board.close()
      }
      if (learned.type === 'digital') {
        say(`Learned: D${learned.pin} (${learned.how}; ${learned.wiring.replace('_', '-')} contact).`)
        paired = { driver: 'firmata', board: choice.board.id, pin: learned.pin, wiring: learned.wiring, ...(values.pullup === false ? { pullup: false } : {}) }
      } else {
        say(`Learned: the supervised loop on A${learned.channel} (${formatOhms(learned.report.ohms)} at rest, ${learned.verified ? 'press checked' : `reads ${learned.report.zone}: saved as you confirmed`}).`)
        paired = { driver: 'firmata', board: choice.board.id, wiring: 'eol_supervised', analog_pin: learned.channel, ...(learned.adcMax !== 1023 ? { adc_max: learned.adcMax } : {}) }
      }
    }

    // Refuse an input another button uses before asking anything (unless the id to replace is still to come).
    if (values.id !== undefined || !replace) refuseTakenInput(config.devices, values.id ?? '', paired)
    const id = values.id ?? await prompter.ask('Device id (lower-case letters, digits, dashes)', { validate: (a) => idProblem(config, a, replace) })
    const label = values.label ?? await prompter.ask('Label shown at the station (e.g. Counter button)', { default: defaultLabel })
    const location = values.location ?? await prompter.ask('Location (e.g. under the counter)', { default: base.location })
    const entry: Record<string, unknown> = { id, kind: 'panic-button', ...keptFields(config, id, replace), ...paired }
    if (label) entry.label = label
    if (location) entry.location = location
    refuseTakenInput(config.devices, id, paired)
    writeButton(file, entry, choice?.isNew ? choice.board : null, replace)
    if (values.json) {
      println(io.stdout, JSON.stringify({
        ok: true, config: file, device: entry,
        board: choice ? { id: choice.board.id, port: choice.board.port, added: choice.isNew } : null,
        loop: learned?.type === 'loop' ? { reading: learned.report.reading, ohms: Number.isFinite(learned.report.ohms) ? Math.round(learned.report.ohms) : null, zone: learned.report.zone, press_checked: learned.verified } : null,
      }))
    } else {
      const board = choice?.isNew ? ` and board "${choice.board.id}" (${choice.board.port})` : ''
      println(io.stdout, `added panic button "${id}"${board} to ${file}. Restart the gateway (sudo systemctl restart safehouse), then walk-test it.`)
    }
    return 0
  } finally {
    prompter.close()
  }
}

function refuseTakenInput(devices: readonly DeviceConfig[], id: string, paired: Record<string, unknown>): void {
  const full = panicButtonDefaults(id, paired as Partial<PanicButtonConfig>)
  const owner = inputOwner(devices, full)
  if (!owner) return
  const what = full.driver === 'gpio' ? `key code ${full.key_code} on ${full.input_device}`
    : full.wiring === 'eol_supervised' ? `A${full.analog_pin} on board "${full.board}"` : `D${full.pin} on board "${full.board}"`
  throw new Error(`${what} is already used by button "${owner}": not saved. Pair the button on another input, or replace that device (--id ${owner} --replace)`)
}
