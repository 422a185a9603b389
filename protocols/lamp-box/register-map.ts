/**
 * The safehouse lamp-box controller's Modbus register map (issue 5 §1,
 * docs/devices/lamp-box.md) and the pure decode of one poll block.
 *
 * Addresses are 0-based PDU addresses (Modbus Application Protocol v1.1b3
 * §4.4: "input register 1" on a data sheet is PDU address 0). Registers are
 * 16-bit big-endian on the wire (§4.2). The whole status fits one FC04 read
 * so a poll is one transaction, and the pattern block one FC16 write, so an
 * alarm never waits behind more than one poll (issue 5 §2).
 */
import type { LampPattern } from './lamp-pattern.js'

// --- patterns (holding register HR_PATTERN) ---------------------------------

/** Pattern codes written to HR_PATTERN and reported in IR_ACTIVE_PATTERN. */
export const PATTERN_CODE = {
  off: 0,
  normal: 1,
  alarm: 2,
  'neighbour-alarm': 3,
  acknowledged: 4,
  test: 5,
} as const satisfies Record<LampPattern, number>

/** Pattern names indexed by code. */
export const PATTERN_NAMES: readonly LampPattern[] = ['off', 'normal', 'alarm', 'neighbour-alarm', 'acknowledged', 'test']

export const CH_RED = 1
export const CH_BLUE = 2
export const CH_BOTH = CH_RED | CH_BLUE

/**
 * Channels lit steadily by each pattern on the safehouse controller, indexed
 * by code; -1 = the pattern blinks, so a sampled current says nothing and the
 * gateway leaves the check to the controller's own fault bits.
 * normal = red+blue steady (the all-night glow); acknowledged = blue steady
 * ("help is coming"); alarm = red/blue alternating 2 Hz; neighbour-alarm =
 * alternating 1 Hz; test = red, blue, both, 1 s each, with the controller
 * measuring each channel.
 */
export const PATTERN_STEADY_MASK: readonly number[] = [0, CH_BOTH, -1, -1, CH_BLUE, -1]

// --- holding registers (FC03 read, FC06/FC16 write) ---------------------------

export const HR_PATTERN = 0
/** Bit 0 red, bit 1 blue: channels the pattern may use (maintenance can disable one). */
export const HR_CHANNEL_ENABLE = 1
/**
 * Seconds without a valid request after which the controller falls back to
 * `normal` on its own (0 = never), so a dead gateway cannot leave a post
 * flashing "alarm" all night, nor dark.
 */
export const HR_WATCHDOG_S = 2
/** The pattern block the driver writes in one FC16: [pattern, channel enable, watchdog]. */
export const HR_BLOCK_LEN = 3

// --- input registers (FC04), read in one block --------------------------------

export const IR_FW_VERSION = 0 // major << 8 | minor
export const IR_HEARTBEAT = 1 // +1 every second, wraps at 0xffff
export const IR_STATUS = 2 // STATUS_* bits
export const IR_LAMP_OUTPUT = 3 // bit 0 red driven now, bit 1 blue driven now
export const IR_ACTIVE_PATTERN = 4 // pattern code the controller is running
export const IR_RED_MA = 5 // red channel current, mA
export const IR_BLUE_MA = 6 // blue channel current, mA
export const IR_SUPPLY_DV = 7 // DC supply from the mains PSU, 0.1 V (0 when mains is off)
export const IR_BATTERY_MV = 8 // backup battery, mV
export const IR_BATTERY_PCT = 9 // backup battery state of charge, 0..100 %
export const IR_TEMPERATURE_DC = 10 // inside the box, 0.1 °C, signed (two's complement)
export const IR_BOOT_COUNT = 11 // +1 on every controller reset
export const IR_BLOCK_LEN = 12

export const STATUS_MAINS_OK = 1 << 0
export const STATUS_ON_BATTERY = 1 << 1
export const STATUS_DOOR_OPEN = 1 << 2
export const STATUS_RED_FAULT = 1 << 3 // open or short circuit seen while driving red
export const STATUS_BLUE_FAULT = 1 << 4
export const STATUS_LAMP_DARK = 1 << 5 // no light output for 2 s while the pattern is not `off`
export const STATUS_BATTERY_LOW = 1 << 6
export const STATUS_OVER_TEMP = 1 << 7
export const STATUS_CONTROLLER_FAULT = 1 << 8 // self-test failed (RAM, ADC, driver stage)
export const STATUS_WATCHDOG_FIRED = 1 << 9 // fell back to normal because the master went silent

// --- decoded status -------------------------------------------------------------

/** One poll, decoded. Numbers only (NaN / -1 = not measured by this profile), reused across polls. */
export interface LampBoxStatus {
  /** STATUS_* bits as reported or synthesised from inputs. */
  statusBits: number
  /** Channels driven now (CH_* bits); -1 unknown. */
  lampOutput: number
  /** Pattern code the controller runs; -1 unknown (generic modules have no patterns). */
  activePattern: number
  redMa: number
  blueMa: number
  /** 1 current flows, 0 none, -1 not sensed (generic modules: a current-sense relay on an input). */
  redSense: number
  blueSense: number
  /** 1 mains present, 0 lost, -1 not sensed. */
  mainsOk: number
  /** 1 open, 0 closed, -1 not sensed. */
  doorOpen: number
  supplyV: number
  batteryMv: number
  batteryPct: number
  temperatureC: number
  firmware: number
  heartbeat: number
  bootCount: number
}

export function newLampBoxStatus(): LampBoxStatus {
  return {
    statusBits: 0, lampOutput: -1, activePattern: -1, redMa: NaN, blueMa: NaN, redSense: -1, blueSense: -1,
    mainsOk: -1, doorOpen: -1, supplyV: NaN, batteryMv: NaN, batteryPct: NaN, temperatureC: NaN,
    firmware: -1, heartbeat: -1, bootCount: -1,
  }
}

export type DecodeResult = { ok: true; value: LampBoxStatus } | { ok: false; error: string }

// --- generic Modbus DI/DO module -------------------------------------------------

/**
 * How a generic relay/IO module is wired to the lamp box: coils drive the red
 * and blue channels; discrete inputs read current-sense relays and the door
 * contact. Input numbers are 0-based PDU addresses; -1 = not wired.
 */
export interface GenericDidoMap {
  red_coil: number
  blue_coil: number
  red_sense_input: number
  blue_sense_input: number
  door_input: number
  /** Input level that means "door open": 'off' for a normally-closed contact that breaks when opened. */
  door_open_when: 'on' | 'off'
  mains_input: number
}

/** Discrete inputs to read (FC02, from address 0) to cover every wired input; 0 = none wired. */
export function genericInputSpan(map: GenericDidoMap): number {
  return Math.max(map.red_sense_input, map.blue_sense_input, map.door_input, map.mains_input) + 1
}

/** Coil programs a generic module can run; the gateway toggles the coils for the blinking ones. */
export type GenericProgram = 'off' | 'red' | 'blue' | 'both' | 'alternate' | 'flash'

/** Channels to drive for a program at blink phase 0/1. */
export function programChannels(program: GenericProgram, phase: number): number {
  switch (program) {
    case 'off': return 0
    case 'red': return CH_RED
    case 'blue': return CH_BLUE
    case 'both': return CH_BOTH
    case 'alternate': return phase === 0 ? CH_RED : CH_BLUE
    case 'flash': return phase === 0 ? CH_BOTH : 0
  }
}

/** Steady channel mask of a program (as PATTERN_STEADY_MASK); -1 when it blinks. */
export function programSteadyMask(program: GenericProgram): number {
  return program === 'alternate' || program === 'flash' ? -1 : programChannels(program, 0)
}

// --- decoders ----------------------------------------------------------------------

/** Register `i` of a block at `offset` (big-endian, Modbus APP §4.2). Module-level: no closure per poll. */
function u16(buf: Uint8Array, offset: number, i: number): number {
  return (buf[offset + 2 * i] << 8) | buf[offset + 2 * i + 1]
}

/** Discrete input `i` of an FC02 bit block; -1 when not wired (i < 0). */
function inputBit(buf: Uint8Array, offset: number, i: number): number {
  return i < 0 ? -1 : (buf[offset + (i >> 3)] >> (i & 7)) & 1
}

/**
 * Decodes poll blocks into one reused LampBoxStatus, returning one reused
 * ok-result: a poll allocates nothing here (DESIGN §4). Never throws.
 */
export class StatusDecoder {
  readonly status: LampBoxStatus = newLampBoxStatus()
  private readonly okResult: DecodeResult = { ok: true, value: this.status }

  /**
   * The safehouse profile: `length` bytes at `offset` are the data of an FC04
   * response for IR 0..IR_BLOCK_LEN-1 (the byte-count field already stripped).
   */
  decodeSafehouse(buf: Uint8Array, offset: number, length: number): DecodeResult {
    if (offset < 0 || length < IR_BLOCK_LEN * 2 || offset + length > buf.length) {
      return { ok: false, error: `status block is ${length} bytes at offset ${offset} of ${buf.length}; need ${IR_BLOCK_LEN * 2}` }
    }
    const s = this.status
    const bits = u16(buf, offset, IR_STATUS)
    s.statusBits = bits
    s.firmware = u16(buf, offset, IR_FW_VERSION)
    s.heartbeat = u16(buf, offset, IR_HEARTBEAT)
    s.lampOutput = u16(buf, offset, IR_LAMP_OUTPUT) & CH_BOTH
    const p = u16(buf, offset, IR_ACTIVE_PATTERN)
    s.activePattern = p < PATTERN_NAMES.length ? p : -1
    s.redMa = u16(buf, offset, IR_RED_MA)
    s.blueMa = u16(buf, offset, IR_BLUE_MA)
    s.redSense = -1
    s.blueSense = -1
    s.mainsOk = (bits & STATUS_MAINS_OK) !== 0 ? 1 : 0
    s.doorOpen = (bits & STATUS_DOOR_OPEN) !== 0 ? 1 : 0
    s.supplyV = u16(buf, offset, IR_SUPPLY_DV) / 10
    s.batteryMv = u16(buf, offset, IR_BATTERY_MV)
    const pct = u16(buf, offset, IR_BATTERY_PCT)
    // A state of charge above 100 % is a controller bug, not a reading: report "not measured".
    s.batteryPct = pct <= 100 ? pct : NaN
    const t = u16(buf, offset, IR_TEMPERATURE_DC)
    s.temperatureC = (t >= 0x8000 ? t - 0x10000 : t) / 10
    s.bootCount = u16(buf, offset, IR_BOOT_COUNT)
    return this.okResult
  }

  /**
   * A generic DI/DO module: `length` bytes at `offset` are FC02 input bits
   * from address 0 (LSB of the first byte = input 0, Modbus APP §6.2).
   * `driven` = the channels the gateway last wrote to the coils.
   */
  decodeGeneric(buf: Uint8Array, offset: number, length: number, map: GenericDidoMap, driven: number): DecodeResult {
    const span = genericInputSpan(map)
    if (offset < 0 || length * 8 < span || offset + length > buf.length) {
      return { ok: false, error: `input block is ${length} bytes at offset ${offset} of ${buf.length}; need ${span} inputs` }
    }
    const s = this.status
    s.redSense = inputBit(buf, offset, map.red_sense_input)
    s.blueSense = inputBit(buf, offset, map.blue_sense_input)
    const door = inputBit(buf, offset, map.door_input)
    s.doorOpen = door < 0 ? -1 : (door === 1) === (map.door_open_when === 'on') ? 1 : 0
    s.mainsOk = inputBit(buf, offset, map.mains_input)
    s.lampOutput = driven
    s.activePattern = -1
    s.redMa = NaN
    s.blueMa = NaN
    s.supplyV = NaN
    s.batteryMv = NaN
    s.batteryPct = NaN
    s.temperatureC = NaN
    s.firmware = -1
    s.heartbeat = -1
    s.bootCount = -1
    // Synthesise the status bits the supervisor reads, so both profiles share one rule set.
    let bits = 0
    if (s.mainsOk !== 0) bits |= STATUS_MAINS_OK // not wired counts as present: nothing to report
    if (s.doorOpen === 1) bits |= STATUS_DOOR_OPEN
    s.statusBits = bits
    return this.okResult
  }
}
