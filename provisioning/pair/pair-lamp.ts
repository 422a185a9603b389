/**
 * `safehouse pair lamp` (issue 7 §2): probe Modbus unit ids on the RS-485
 * adapter, report what answers (controller model, firmware, status), and
 * write the lamp box's unit id and line settings into the config (--add, or
 * a confirmation on a terminal).
 */
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { LampBoxConfig } from '../../devices/lamp-box/config.js'
import { ModbusSerialTransport, listSerialPorts } from '../../devices/lamp-box/hw-modbus.js'
import { Prompter } from '../shared/prompter.js'
import { DEFAULT_CONFIG, loadConfigForCommand } from '../shared/config-file.js'
import { parseFlags, UsageError } from '../commands/usage-error.js'
import { DEFAULT_LAMP_ID, writeLamp, type LampWritten } from './lamp-config.js'
import { describeUnit, parseUnits, scanUnits, type UnitInfo } from './lamp-scan.js'
import { type CliIO, println, processIO } from '../cli-io.js'

/** The adapter's stable name after `safehouse install` (docs/install.md). */
const UDEV_RS485 = '/dev/safehouse-rs485'
const BAUDS = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200]
const DEFAULT_TIMEOUT_MS = 100

const HELP = `usage: safehouse pair lamp [--config FILE] [--port PATH] [--baud 19200] [--parity even|odd|none]
                          [--units 1-247 | --units 1,2,5] [--timeout-ms ${DEFAULT_TIMEOUT_MS}] [--add] [--id ID] [--json]

Probes Modbus unit ids on the RS-485 adapter and reports what answers: the safehouse
lamp-box controller (firmware, pattern, currents, mains, battery) or a generic Modbus I/O
module. With --add (or when you confirm on a terminal) the lamp box's unit id and line
settings are written to the config (an existing lamp-box entry is updated in place).
Stop the gateway first (sudo systemctl stop safehouse): it holds the adapter's port.
A full scan of 247 ids takes about ${Math.round(247 * DEFAULT_TIMEOUT_MS / 1000)} s at the default timeout.

Options:
  --config FILE     site config (default ${DEFAULT_CONFIG}); its lamp box gives the defaults below
  --port PATH       the RS-485 adapter (default: the config's, else ${UDEV_RS485}, else /dev/ttyUSB0)
  --baud N          line speed (default: the config's, else 19200)
  --parity P        even, odd or none (default: the config's, else even); --stop-bits 1|2
  --units LIST      unit ids to probe: a range 1-247 (default) or a list 1,2,5 or both 1-10,20
  --timeout-ms N    wait per unit id (default ${DEFAULT_TIMEOUT_MS}); raise it for slow modules
  --add             write the lamp box that answered into the config without asking
  --id ID           the lamp box's device id (default: the config's, else ${DEFAULT_LAMP_ID})
  --json            print the result as JSON on stdout

Examples:
  safehouse pair lamp --port /dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10K1234-if00-port0
  safehouse pair lamp --units 1-10 --add
  safehouse pair lamp --baud 9600 --parity none --units 1,2,3 --add --id lamp`

export async function pairLamp(argv: string[], io: CliIO = processIO()): Promise<number> {
  const { values } = parseFlags(() => parseArgs({ args: argv, options: {
    config: { type: 'string', short: 'c' }, port: { type: 'string' }, baud: { type: 'string' }, parity: { type: 'string' },
    'stop-bits': { type: 'string' }, units: { type: 'string' }, 'timeout-ms': { type: 'string' }, add: { type: 'boolean' },
    id: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  } }), '; see safehouse pair lamp --help')
  if (values.help) { println(io.stdout, HELP); return 0 }
  const file = values.config ?? DEFAULT_CONFIG
  const haveConfig = existsSync(file)
  if (values.add && !haveConfig) throw new Error(`${file} does not exist: create it first with \`safehouse init --config ${file}\`, or name it with --config`)
  const lamp = haveConfig ? loadConfigForCommand(file).devices.find((d): d is LampBoxConfig => d.kind === 'lamp-box') : undefined
  const modbusLamp = lamp?.driver === 'modbus' ? lamp : undefined

  const port = values.port ?? modbusLamp?.port ?? (existsSync(UDEV_RS485) ? UDEV_RS485 : '/dev/ttyUSB0')
  const baud = values.baud === undefined ? modbusLamp?.baud ?? 19200 : Number(values.baud)
  if (!BAUDS.includes(baud)) throw new UsageError(`--baud must be one of ${BAUDS.join(', ')}`)
  const parity = (values.parity ?? modbusLamp?.parity ?? 'even') as LampBoxConfig['parity']
  if (!['even', 'odd', 'none'].includes(parity)) throw new UsageError('--parity must be even, odd or none')
  const stopBits = (values['stop-bits'] === undefined ? modbusLamp?.stop_bits ?? 1 : Number(values['stop-bits'])) as 1 | 2
  if (stopBits !== 1 && stopBits !== 2) throw new UsageError('--stop-bits must be 1 or 2')
  const units = parseUnits(values.units ?? '1-247')
  const timeoutMs = values['timeout-ms'] === undefined ? DEFAULT_TIMEOUT_MS : Number(values['timeout-ms'])
  if (!Number.isInteger(timeoutMs) || timeoutMs < 20 || timeoutMs > 5000) throw new UsageError('--timeout-ms must be 20-5000')
  const id = values.id ?? lamp?.id ?? DEFAULT_LAMP_ID

  const prompter = new Prompter({ input: io.stdin, output: io.stderr })
  const say = (s: string): void => prompter.say(s)
  try {
    const transport = new ModbusSerialTransport({ id, port, baud, parity, stop_bits: stopBits, timeout_ms: timeoutMs })
    try {
      await transport.open()
    } catch (e) {
      throw new Error(await openError(port, e))
    }
    const infos: UnitInfo[] = []
    let scan
    try {
      say(`Probing ${units.length} unit id${units.length === 1 ? '' : 's'} on ${transport.describe}, up to ${timeoutMs} ms each (about ${Math.ceil(units.length * timeoutMs / 1000)} s)...`)
      scan = await scanUnits(transport, units, progress(units.length, say, io.stderr))
      for (const u of scan.answered) infos.push(await describeUnit(transport, u))
    } finally {
      await transport.close()
    }
    if (io.stderr.isTTY) io.stderr.write('\r\x1b[K')
    for (const i of infos) say(`  unit ${i.unit}: ${i.summary}`)
    if (scan.garbled.length) say(`  unit${scan.garbled.length === 1 ? '' : 's'} ${scan.garbled.join(', ')} sent garbled replies: a device is there, but baud, parity or stop bits differ, or the line lacks termination or biasing`)

    const json = { ok: infos.length > 0, port, line: transport.describe, units: units.length, answered: infos, garbled: scan.garbled, written: null as (LampWritten & { config: string; unit_id: number }) | null }
    if (scan.portError || infos.length === 0) {
      if (values.json) println(io.stdout, JSON.stringify(json))
      if (scan.portError) throw new Error(`${scan.portError}: check the adapter and run again`)
      throw new Error(nothingAnswered(transport.describe, units, scan.garbled, baud, parity))
    }

    const preferred = infos.filter((i) => i.model === 'safehouse')
    let pick = infos.length === 1 ? infos[0] : preferred.length === 1 ? preferred[0] : null
    if (lamp && !infos.some((i) => i.unit === lamp.unit_id)) say(`The config's lamp box "${lamp.id}" has unit_id ${lamp.unit_id}, which did not answer.`)
    let write = !!values.add
    if (!write && io.stdin.isTTY && haveConfig) {
      if (!pick) pick = await choose(prompter, infos)
      write = await prompter.confirm(`Write unit ${pick.unit} on ${port} to ${file} as lamp box "${id}"?`, true)
    }
    if (write) {
      if (!pick) pick = await choose(prompter, infos)
      const profile = pick.model === 'unknown' ? undefined : pick.model
      const w = writeLamp(file, { id: values.id, unit: pick.unit, port, baud, parity, stop_bits: stopBits, profile })
      json.written = { ...w, config: file, unit_id: pick.unit }
      say(`${w.updated ? 'Updated' : 'Added'} lamp box "${w.id}" (unit ${pick.unit} on ${transport.describe}) in ${file}. Restart the gateway (sudo systemctl restart safehouse).`)
    } else if (!values.json) {
      say(haveConfig ? `Nothing written: run again with --add${infos.length > 1 ? ' --units N' : ''} to put it in ${file}.` : `No config at ${file}: create it with \`safehouse init\`, then run again with --add.`)
    }
    if (values.json) println(io.stdout, JSON.stringify(json))
    else println(io.stdout, infos.map((i) => `unit ${i.unit}: ${i.model}${i.firmware ? ` firmware ${i.firmware}` : ''}`).join('\n'))
    return 0
  } finally {
    prompter.close()
  }
}

async function choose(prompter: Prompter, infos: UnitInfo[]): Promise<UnitInfo> {
  const ids = infos.map((i) => String(i.unit))
  const a = await prompter.choose('Several units answered: which one is the lamp box?', ids)
  return infos.find((i) => String(i.unit) === a)!
}

/** Progress on stderr: a rewritten line on a terminal, a line every 25 ids otherwise. */
function progress(total: number, say: (s: string) => void, stderr: CliIO['stderr']): (done: number, unit: number, answered: boolean) => void {
  const tty = !!stderr.isTTY
  return (done, unit, answered) => {
    if (tty) stderr.write(`\r\x1b[K  unit ${unit} (${done} of ${total})${answered ? ' answered' : ''}`)
    if (answered) { if (tty) stderr.write('\n'); else say(`  unit ${unit} answered`) }
    else if (!tty && (done % 25 === 0 || done === total)) say(`  ${done} of ${total} probed`)
  }
}

async function openError(port: string, e: unknown): Promise<string> {
  const why = e instanceof Error ? e.message : String(e)
  const ports = await listSerialPorts()
  let hint = `Give the RS-485 adapter's port with --port (after \`safehouse install\` it is ${UDEV_RS485}; prefer /dev/serial/by-id/... names) and check its USB cable.`
  if (/EACCES|permission/i.test(why)) hint = 'Add your user to the "dialout" group (sudo usermod -aG dialout $USER, then log in again), or run with sudo.'
  else if (/EBUSY|lock|busy/i.test(why)) hint = 'Another program holds the port: stop the gateway while pairing (sudo systemctl stop safehouse), close terminal programs, and stop ModemManager if it probes adapters (sudo systemctl disable --now ModemManager).'
  return `cannot open serial port ${port} (${why}). Serial ports present: ${ports.join(', ') || 'none found'}. ${hint}`
}

function nothingAnswered(line: string, units: number[], garbled: number[], baud: number, parity: string): string {
  const range = units.length > 3 && units[units.length - 1] - units[0] === units.length - 1 ? `${units[0]}-${units[units.length - 1]}` : units.join(', ')
  const generic = baud === 9600 && parity === 'none' ? '' : ' (many generic modules ship at 9600 8N1: --baud 9600 --parity none)'
  return `nothing answered on ${line} (unit ids ${range})${garbled.length ? `; units ${garbled.join(', ')} sent garbled replies` : ''}. Check, in this order: ` +
    'power at the lamp box; A and B (D-/D+) swapped — vendors disagree, swap them first; ' +
    `baud, parity and stop bits against the controller${generic}; ` +
    '120 Ω termination at both ends and biasing at the adapter; ' +
    `the unit id range (${range === '1-247' ? 'all ids were probed' : 'probe all with --units 1-247'}); ` +
    `a slow module (--timeout-ms ${DEFAULT_TIMEOUT_MS * 3}). See docs/devices/lamp-box.md#troubleshooting`
}
