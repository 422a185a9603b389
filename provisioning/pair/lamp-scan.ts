/**
 * "Who is on this RS-485 line?" for `safehouse pair lamp` (issue 7 §2): probe
 * Modbus unit ids one by one with the driver's own code (ModbusSerialTransport
 * from hw-modbus.ts, probeUnits from unit-probe.ts: any reply, even an
 * exception, means a device with that id is there), then read what each one
 * that answered is: the safehouse controller answers the whole status block
 * (FC04, decoded by the register map), a generic DI/DO module refuses FC04
 * (exception 01) but answers FC02 discrete inputs.
 */
import type { ModbusTransport } from '../../devices/lamp-box/modbus-transport.js'
import { LampBoxTxError } from '../../devices/lamp-box/modbus-transport.js'
import { probeUnits } from '../../devices/lamp-box/unit-probe.js'
import * as M from '../../protocols/lamp-box/register-map.js'
import { UsageError } from '../commands/usage-error.js'

/** "1-247", "1,2,5", "1-10,20" -> sorted unique unit ids; Modbus serial line unit ids are 1-247 (§2.2). */
export function parseUnits(spec: string): number[] {
  const out = new Set<number>()
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part)
    const lo = m ? Number(m[1]) : NaN
    const hi = m?.[2] !== undefined ? Number(m[2]) : lo
    if (!m || lo < 1 || hi > 247 || hi < lo) throw new UsageError(`--units "${spec}": give unit ids 1-247 as a range (1-247) or a list (1,2,5)`)
    for (let u = lo; u <= hi; u++) out.add(u)
  }
  return [...out].sort((a, b) => a - b)
}

export type UnitModel = 'safehouse' | 'generic-dido' | 'unknown'

export interface UnitInfo {
  unit: number
  model: UnitModel
  /** "1.2" for the safehouse controller. */
  firmware: string | null
  /** One line for the technician. */
  summary: string
  /** Decoded registers (safehouse) or input bits (generic), for --json. */
  registers: Record<string, number | string | boolean> | null
}

export interface ScanResult {
  answered: number[]
  garbled: number[]
  silent: number[]
  /** The port failed during the scan (adapter unplugged); '' = fine. */
  portError: string
}

/** Probe `ids` one at a time (so progress can be shown); stops if the port itself fails. */
export async function scanUnits(t: ModbusTransport, ids: readonly number[], progress: (done: number, unit: number, answered: boolean) => void): Promise<ScanResult> {
  const r: ScanResult = { answered: [], garbled: [], silent: [], portError: '' }
  for (let i = 0; i < ids.length; i++) {
    const one = await probeUnits(t, [ids[i]], 'safehouse')
    r.answered.push(...one.answered)
    r.garbled.push(...one.garbled)
    r.silent.push(...one.silent)
    if (one.answered.length + one.garbled.length + one.silent.length === 0) {
      r.portError = t.pathExists() ? `the serial port ${t.describe} failed during the scan` : `${t.describe} vanished during the scan (adapter unplugged?)`
      break
    }
    progress(i + 1, ids[i], one.answered.length > 0)
  }
  return r
}

const STATUS_FLAGS: Array<[number, string]> = [
  [M.STATUS_ON_BATTERY, 'on battery'], [M.STATUS_DOOR_OPEN, 'door open'], [M.STATUS_RED_FAULT, 'red channel fault'],
  [M.STATUS_BLUE_FAULT, 'blue channel fault'], [M.STATUS_LAMP_DARK, 'lamp dark'], [M.STATUS_BATTERY_LOW, 'battery low'],
  [M.STATUS_OVER_TEMP, 'over temperature'], [M.STATUS_CONTROLLER_FAULT, 'controller self-test fault'],
  [M.STATUS_WATCHDOG_FIRED, 'watchdog fell back to normal'],
]

function channels(mask: number): string {
  return mask < 0 ? 'unknown' : [mask & M.CH_RED ? 'red' : '', mask & M.CH_BLUE ? 'blue' : ''].filter(Boolean).join('+') || 'none'
}

/** Read what unit `unit` is. Never throws: a unit that stops answering is reported as such. */
export async function describeUnit(t: ModbusTransport, unit: number): Promise<UnitInfo> {
  let fc04Exception = 0
  try {
    const data = await t.readInputRegisters(unit, 0, M.IR_BLOCK_LEN)
    const r = new M.StatusDecoder().decodeSafehouse(data, 0, data.length)
    if (r.ok) {
      const s = r.value
      const fw = `${s.firmware >> 8}.${s.firmware & 0xff}`
      const flags = STATUS_FLAGS.filter(([bit]) => s.statusBits & bit).map(([, name]) => name)
      const pattern = s.activePattern >= 0 ? M.PATTERN_NAMES[s.activePattern] : 'unknown'
      const battery = Number.isNaN(s.batteryPct) ? 'not measured' : `${s.batteryPct} % (${(s.batteryMv / 1000).toFixed(1)} V)`
      return {
        unit, model: 'safehouse', firmware: fw,
        summary: `safehouse lamp-box controller, firmware ${fw}: pattern ${pattern}, lit ${channels(s.lampOutput)}, ` +
          `red ${s.redMa} mA, blue ${s.blueMa} mA, mains ${s.mainsOk ? 'ok' : 'OFF'}, battery ${battery}, ${s.temperatureC} °C, ` +
          `boot count ${s.bootCount}${flags.length ? `; ${flags.join(', ')}` : ''}`,
        registers: {
          firmware: fw, pattern, lamp_output: s.lampOutput, red_ma: s.redMa, blue_ma: s.blueMa, mains_ok: s.mainsOk === 1,
          door_open: s.doorOpen === 1, supply_v: s.supplyV, battery_mv: s.batteryMv, battery_pct: Number.isNaN(s.batteryPct) ? 'not measured' : s.batteryPct,
          temperature_c: s.temperatureC, boot_count: s.bootCount, status_bits: s.statusBits,
        },
      }
    }
  } catch (e) {
    if (!(e instanceof LampBoxTxError && e.kind === 'exception')) return stopped(unit, e)
    fc04Exception = e.exceptionCode
  }
  try {
    const bits = await t.readDiscreteInputs(unit, 0, 8)
    const inputs = Array.from({ length: 8 }, (_, i) => (bits[i >> 3] >> (i & 7)) & 1)
    return {
      unit, model: 'generic-dido', firmware: null,
      summary: `Modbus I/O module (no safehouse registers: FC04 exception ${fc04Exception || 'none'}; answers FC02): ` +
        `discrete inputs 0-7 = ${inputs.join('')}; use profile generic-dido and set its generic: wiring (docs/devices/lamp-box.md)`,
      registers: { inputs_0_7: inputs.join('') },
    }
  } catch (e) {
    if (!(e instanceof LampBoxTxError && e.kind === 'exception')) return stopped(unit, e)
    return {
      unit, model: 'unknown', firmware: null,
      summary: `a Modbus device that is neither a safehouse controller nor an I/O module (exception ${fc04Exception} to FC04, ${e.exceptionCode} to FC02): another device on the line?`,
      registers: null,
    }
  }
}

function stopped(unit: number, e: unknown): UnitInfo {
  const why = e instanceof Error ? e.message : String(e)
  return { unit, model: 'unknown', firmware: null, summary: `answered the probe, then not the status read (${why}): a weak or noisy line?`, registers: null }
}
