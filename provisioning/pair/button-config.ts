/**
 * The config side of `safehouse pair button` (issue 7 §2): which board to
 * open, whether an id or an input is already taken, and the device entry
 * written back with editConfigFile/addDevice (validated, atomic).
 */
import { isSeq, type Document } from 'yaml'
import { SerialPort } from 'serialport'
import type { Config, DeviceConfig } from '../../gateway/config/config-types.js'
import { isTopicLevel } from '../../protocols/mqtt/topics.js'
import { firmataBoardDefaults, type FirmataBoardConfig } from '../../devices/panic-button/board-config.js'
import { panicButtonDefaults, type PanicButtonConfig } from '../../devices/panic-button/config.js'
import { addDevice, editConfigFile } from '../shared/config-file.js'
import { UsageError } from '../commands/usage-error.js'

/** What is wrong with `id` as a new device id, or null. */
export function idProblem(config: Readonly<Config>, id: string, replace: boolean): string | null {
  if (!isTopicLevel(id) || id === 'gateway') return 'use lower-case letters, digits and dashes, 1-32 characters (not "gateway")'
  if (!replace && config.devices.some((d) => d.id === id)) return `a device with id "${id}" is already in the config: choose another id, or pass --replace to overwrite it`
  return null
}

export interface BoardChoice {
  board: FirmataBoardConfig
  /** Not in the config yet: written with the button. */
  isNew: boolean
}

function freeBoardId(config: Readonly<Config>): string {
  if (!config.boards.some((b) => b.id === 'main')) return 'main'
  for (let n = 2; ; n++) if (!config.boards.some((b) => b.id === `board-${n}`)) return `board-${n}`
}

/** The board to open: --board, --port, or the only configured board. */
export async function chooseBoard(config: Readonly<Config>, o: { board?: string; port?: string }): Promise<BoardChoice> {
  const known = config.boards.map((b) => `${b.id} (${b.port})`).join(', ') || 'none'
  if (o.board !== undefined && !isTopicLevel(o.board)) throw new UsageError(`--board "${o.board}": use lower-case letters, digits and dashes`)
  if (o.port !== undefined) {
    const byId = o.board !== undefined ? config.boards.find((b) => b.id === o.board) : undefined
    if (byId) {
      if (byId.port !== o.port) throw new UsageError(`board "${byId.id}" is on ${byId.port} in the config, not ${o.port}: drop --port to use it, or fix boards[].port in the config`)
      return { board: byId, isNew: false }
    }
    const byPort = config.boards.find((b) => b.port === o.port)
    if (byPort) {
      // one port, one board: the gateway would otherwise open it twice
      if (o.board !== undefined) throw new UsageError(`${o.port} is board "${byPort.id}" in the config: use --board ${byPort.id}`)
      return { board: byPort, isNew: false }
    }
    return { board: firmataBoardDefaults(o.board ?? freeBoardId(config), o.port), isNew: true }
  }
  if (o.board !== undefined) {
    const b = config.boards.find((x) => x.id === o.board)
    if (!b) throw new UsageError(`board "${o.board}" is not in the config (boards: ${known}); add it with --port PATH`)
    return { board: b, isNew: false }
  }
  if (config.boards.length === 1) return { board: config.boards[0], isNew: false }
  if (config.boards.length > 1) throw new UsageError(`the config has several boards (${known}): pick one with --board ID`)
  const ports = await SerialPort.list().then((l) => l.map((p) => p.path).join(', '), () => '')
  throw new UsageError('no Firmata board in the config: give the board\'s port with --port ' +
    `(serial ports present: ${ports || 'none'}; prefer its /dev/serial/by-id/... name)`)
}

/** Fields pairing decides; everything else of an entry being replaced (alert_kind, hold_ms, resistor values...) is kept. */
const PAIRED_FIELDS = ['driver', 'board', 'pin', 'wiring', 'pullup', 'analog_pin', 'adc_max', 'key_code', 'input_device']

/** The existing entry's settings to keep when replacing `id` (raw, as written in the file). */
export function keptFields(config: Readonly<Config>, id: string, replace: boolean): Record<string, unknown> {
  const old = replace ? config.devices.find((d) => d.id === id && d.kind === 'panic-button') : undefined
  if (!old) return {}
  const kept: Record<string, unknown> = {}
  const defaults = panicButtonDefaults(id) as unknown as Record<string, unknown>
  for (const [k, v] of Object.entries(old)) {
    if (PAIRED_FIELDS.includes(k) || k === 'id' || k === 'kind') continue
    if (JSON.stringify(v) !== JSON.stringify(defaults[k])) kept[k] = v
  }
  return kept
}

/** Settings the loop check starts from: the entry being replaced, else the schema defaults. */
export function baseButton(config: Readonly<Config>, id: string | undefined, replace: boolean): PanicButtonConfig {
  const old = id && replace ? config.devices.find((d) => d.id === id && d.kind === 'panic-button') : undefined
  return old ? (old as PanicButtonConfig) : panicButtonDefaults(id ?? 'new-button')
}

type Paired = Pick<PanicButtonConfig, 'id' | 'driver' | 'board' | 'pin' | 'wiring' | 'analog_pin' | 'key_code' | 'input_device'>

/** Which other button already uses this input, or null (the gateway would read one pin for two devices). */
export function inputOwner(devices: readonly DeviceConfig[], e: Paired): string | null {
  for (const d of devices) {
    if (d.kind !== 'panic-button' || d.id === e.id || d.driver !== e.driver) continue
    if (e.driver === 'gpio') {
      if (d.input_device === e.input_device && d.key_code === e.key_code) return d.id
      continue
    }
    if (d.board !== e.board) continue
    const eLoop = e.wiring === 'eol_supervised'
    if (eLoop !== (d.wiring === 'eol_supervised')) continue
    if (eLoop ? d.analog_pin === e.analog_pin : d.pin === e.pin) return d.id
  }
  return null
}

/** Write the button (and a new board) into the config file; validated and atomic. */
export function writeButton(file: string, entry: Record<string, unknown>, newBoard: FirmataBoardConfig | null, replace: boolean): void {
  editConfigFile(file, (doc: Document) => {
    if (newBoard) {
      const node = doc.createNode({ id: newBoard.id, port: newBoard.port })
      const boards = doc.get('boards')
      if (isSeq(boards)) boards.items.push(node)
      else doc.set('boards', doc.createNode([{ id: newBoard.id, port: newBoard.port }]))
    }
    addDevice(doc, entry, replace)
  })
}
