/**
 * A behavioural model of the lamp box at the end of the RS-485 line: the
 * safehouse controller (protocols/lamp-box/register-map.ts) or a generic
 * DI/DO module wired per config. Shared by the simulated twin
 * (sim-lamp-box.ts) and the Modbus slave of the real-peer tests
 * (test/harness/lamp-box-slave.ts), so both answer the same way.
 *
 * Faults are injected by setting the public fields (door open, mains lost,
 * red string broken, ...); what the controller reports follows from them.
 */
import * as M from '../../protocols/lamp-box/register-map.js'
import type { GenericDidoMap } from '../../protocols/lamp-box/register-map.js'

/** Modbus exception codes (APP §7). */
export const EX_ILLEGAL_FUNCTION = 1
export const EX_ILLEGAL_ADDRESS = 2
export const EX_ILLEGAL_VALUE = 3

const LIT_MA = 350
const SHORT_MA = 2600

export class LampBoxControllerModel {
  profile: 'safehouse' | 'generic-dido'
  unitId: number
  generic: GenericDidoMap
  // holding registers
  pattern: number = M.PATTERN_CODE.normal
  channelEnable = M.CH_BOTH
  watchdogS = 0
  // generic coils
  readonly coils = new Uint8Array(64)
  // the world (inject faults here)
  mainsOk = true
  doorOpen = false
  redBroken = false
  blueBroken = false
  redShorted = false
  /** Both strings out (fuse, PSU): the controller sets STATUS_LAMP_DARK. */
  dark = false
  batteryMv = 13_100
  batteryPct = 96
  temperatureDc = 215
  controllerFault = false
  overTemp = false
  /** The heartbeat counter stops (firmware main loop hung, comms still alive). */
  heartbeatFrozen = false
  firmware = 0x0102
  bootCount = 1
  /** Answer every request with this exception code (e.g. 6 = busy); 0 = off. */
  forceException = 0
  private frozenAt = 0

  constructor(o: { profile?: 'safehouse' | 'generic-dido'; unitId?: number; generic?: GenericDidoMap; now?: () => number } = {}) {
    this.profile = o.profile ?? 'safehouse'
    this.unitId = o.unitId ?? 1
    this.generic = o.generic ?? {
      red_coil: 0, blue_coil: 1, red_sense_input: 0, blue_sense_input: 1, door_input: 2, door_open_when: 'off', mains_input: -1,
    }
    this.now = o.now ?? (() => Date.now())
  }

  private readonly now: () => number

  /** Channels the controller drives right now (blinking patterns follow the clock). */
  outputs(): number {
    if (this.profile === 'generic-dido') {
      const g = this.generic
      return (this.coils[g.red_coil] ? M.CH_RED : 0) | (this.coils[g.blue_coil] ? M.CH_BLUE : 0)
    }
    const steady = M.PATTERN_STEADY_MASK[this.pattern]
    const half = Math.floor(this.now() / (this.pattern === M.PATTERN_CODE.alarm ? 250 : 500)) & 1
    const out = steady >= 0 ? steady : this.pattern === M.PATTERN_CODE.test ? (half ? M.CH_BOTH : M.CH_RED) : half ? M.CH_BLUE : M.CH_RED
    return out & this.channelEnable
  }

  channelMa(ch: number): number {
    if (this.dark || (this.outputs() & ch) === 0) return 0
    if (ch === M.CH_RED) return this.redShorted ? SHORT_MA : this.redBroken ? 0 : LIT_MA
    return this.blueBroken ? 0 : LIT_MA
  }

  heartbeat(): number {
    const hb = Math.floor(this.now() / 1000) & 0xffff
    if (!this.heartbeatFrozen) this.frozenAt = hb
    return this.frozenAt
  }

  statusBits(): number {
    let b = 0
    if (this.mainsOk) b |= M.STATUS_MAINS_OK
    else b |= M.STATUS_ON_BATTERY
    if (this.doorOpen) b |= M.STATUS_DOOR_OPEN
    if (this.redBroken || this.redShorted) b |= M.STATUS_RED_FAULT
    if (this.blueBroken) b |= M.STATUS_BLUE_FAULT
    if (this.dark && this.pattern !== M.PATTERN_CODE.off) b |= M.STATUS_LAMP_DARK
    if (this.batteryPct <= 20) b |= M.STATUS_BATTERY_LOW
    if (this.overTemp) b |= M.STATUS_OVER_TEMP
    if (this.controllerFault) b |= M.STATUS_CONTROLLER_FAULT
    return b
  }

  /** Simulates a controller reset: volatile holding registers back to power-on values. */
  reboot(): void {
    this.pattern = M.PATTERN_CODE.normal
    this.channelEnable = M.CH_BOTH
    this.bootCount++
  }

  // --- Modbus functions: return 0 or an exception code; data written to out at off ---

  readInputRegisters(addr: number, count: number, out: Uint8Array, off: number): number {
    if (this.forceException) return this.forceException
    if (this.profile !== 'safehouse') return EX_ILLEGAL_FUNCTION
    if (count < 1 || addr + count > M.IR_BLOCK_LEN) return EX_ILLEGAL_ADDRESS
    for (let i = 0; i < count; i++) {
      const v = this.inputRegister(addr + i) & 0xffff
      out[off + 2 * i] = v >> 8
      out[off + 2 * i + 1] = v & 0xff
    }
    return 0
  }

  private inputRegister(a: number): number {
    switch (a) {
      case M.IR_FW_VERSION: return this.firmware
      case M.IR_HEARTBEAT: return this.heartbeat()
      case M.IR_STATUS: return this.statusBits()
      case M.IR_LAMP_OUTPUT: return this.dark ? 0 : this.outputs()
      case M.IR_ACTIVE_PATTERN: return this.pattern
      case M.IR_RED_MA: return this.channelMa(M.CH_RED)
      case M.IR_BLUE_MA: return this.channelMa(M.CH_BLUE)
      case M.IR_SUPPLY_DV: return this.mainsOk ? 138 : 0
      case M.IR_BATTERY_MV: return this.batteryMv
      case M.IR_BATTERY_PCT: return this.batteryPct
      case M.IR_TEMPERATURE_DC: return this.temperatureDc < 0 ? this.temperatureDc + 0x10000 : this.temperatureDc
      default: return this.bootCount
    }
  }

  readHoldingRegisters(addr: number, count: number, out: Uint8Array, off: number): number {
    if (this.forceException) return this.forceException
    if (this.profile !== 'safehouse') return EX_ILLEGAL_FUNCTION
    if (count < 1 || addr + count > M.HR_BLOCK_LEN) return EX_ILLEGAL_ADDRESS
    const regs = [this.pattern, this.channelEnable, this.watchdogS]
    for (let i = 0; i < count; i++) {
      out[off + 2 * i] = regs[addr + i] >> 8
      out[off + 2 * i + 1] = regs[addr + i] & 0xff
    }
    return 0
  }

  writeRegisters(addr: number, values: ArrayLike<number>): number {
    if (this.forceException) return this.forceException
    if (this.profile !== 'safehouse') return EX_ILLEGAL_FUNCTION
    if (values.length < 1 || addr + values.length > M.HR_BLOCK_LEN) return EX_ILLEGAL_ADDRESS
    for (let i = 0; i < values.length; i++) {
      const a = addr + i
      const v = values[i]
      if (a === M.HR_PATTERN && v >= M.PATTERN_NAMES.length) return EX_ILLEGAL_VALUE
      if (a === M.HR_CHANNEL_ENABLE && v > M.CH_BOTH) return EX_ILLEGAL_VALUE
    }
    for (let i = 0; i < values.length; i++) {
      const a = addr + i
      if (a === M.HR_PATTERN) this.pattern = values[i]
      else if (a === M.HR_CHANNEL_ENABLE) this.channelEnable = values[i]
      else this.watchdogS = values[i]
    }
    return 0
  }

  /** Generic module inputs (FC02): sense relays follow the coils and the world. */
  inputBit(i: number): number {
    const g = this.generic
    if (i === g.red_sense_input) return this.channelMa(M.CH_RED) > 0 ? 1 : 0
    if (i === g.blue_sense_input) return this.channelMa(M.CH_BLUE) > 0 ? 1 : 0
    if (i === g.door_input) return this.doorOpen === (g.door_open_when === 'on') ? 1 : 0
    if (i === g.mains_input) return this.mainsOk ? 1 : 0
    return 0
  }

  readBits(fc: 1 | 2, addr: number, count: number, out: Uint8Array, off: number): number {
    if (this.forceException) return this.forceException
    if (this.profile !== 'generic-dido') return EX_ILLEGAL_FUNCTION
    if (count < 1 || addr + count > this.coils.length) return EX_ILLEGAL_ADDRESS
    out.fill(0, off, off + ((count + 7) >> 3))
    for (let i = 0; i < count; i++) {
      const v = fc === 1 ? this.coils[addr + i] : this.inputBit(addr + i)
      if (v) out[off + (i >> 3)] |= 1 << (i & 7)
    }
    return 0
  }

  writeCoils(addr: number, values: ArrayLike<number>): number {
    if (this.forceException) return this.forceException
    if (this.profile !== 'generic-dido') return EX_ILLEGAL_FUNCTION
    if (values.length < 1 || addr + values.length > this.coils.length) return EX_ILLEGAL_ADDRESS
    for (let i = 0; i < values.length; i++) this.coils[addr + i] = values[i] ? 1 : 0
    return 0
  }
}
