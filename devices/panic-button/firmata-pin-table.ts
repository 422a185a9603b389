/**
 * The pins a Firmata board reported in its handshake (capability and analog
 * mapping responses), as the driver checks a configured button's pin against
 * them and `safehouse pair button` lists the inputs to watch.
 *
 * Also the shape of firmata-io's Board as this folder uses it: firmata-io
 * ships no types. Only hw-firmata-board.ts creates one (DESIGN §4).
 */
import type { EventEmitter } from 'node:events'

/** The parts of firmata-io's Board we use. */
export interface FirmataIo extends EventEmitter {
  MODES: { INPUT: number; ANALOG: number; PULLUP: number }
  RESOLUTION: { ADC: number | null }
  pins: Array<{ supportedModes: number[]; analogChannel: number }>
  analogPins: number[]
  firmware: { name?: string; version?: { major: number; minor: number } }
  versionReceived?: boolean
  reportVersionTimeoutId?: ReturnType<typeof setTimeout>
  pinMode(pin: number, mode: number): void
  digitalRead(pin: number, cb: (value: number) => void): void
  analogRead(channel: number, cb: (value: number) => void): void
  reportDigitalPin(pin: number, value: 0 | 1): void
  reportAnalogPin(channel: number, value: 0 | 1): void
}

/** Firmata's "no analog channel" marker in a pin's analogChannel (protocol.md, ANALOG_MAPPING_RESPONSE). */
const NO_ANALOG_CHANNEL = 127

/** The board's inputs, as a technician picks among them. */
export interface BoardPins {
  /** Digital pins that can be inputs (with the pull-up when asked) and have no analog channel. */
  digital: number[]
  /** Analog channels and the pin each is on. */
  analog: Array<{ channel: number; pin: number }>
  total: number
  /** Full-scale ADC reading the board reports (1023 on a Nano/Uno, 4095 on 12-bit boards). */
  adcMax: number
}

export class FirmataPinTable {
  constructor(private readonly io: FirmataIo) {}

  /** Number of pins, digital and analog. */
  get count(): number { return this.io.pins.length }
  /** Number of analog channels. */
  get analogCount(): number { return this.io.analogPins.length }

  hasPin(pin: number): boolean { return this.io.pins[pin] !== undefined }
  hasAnalogChannel(channel: number): boolean { return this.io.analogPins[channel] !== undefined }

  /** Whether `pin` can be a digital input (with the board's pull-up when asked). */
  supportsInput(pin: number, pullup: boolean): boolean {
    const io = this.io
    return io.pins[pin]?.supportedModes.includes(pullup ? io.MODES.PULLUP : io.MODES.INPUT) === true
  }

  /** Every input a button could be on: plain digital inputs, then the analog channels in order. */
  inputs(pullup: boolean): BoardPins {
    const io = this.io
    const mode = pullup ? io.MODES.PULLUP : io.MODES.INPUT
    const digital: number[] = []
    io.pins.forEach((p, i) => { if (p.analogChannel === NO_ANALOG_CHANNEL && p.supportedModes.includes(mode)) digital.push(i) })
    const analog = io.analogPins.map((pin) => ({ channel: io.pins[pin].analogChannel, pin })).sort((a, b) => a.channel - b.channel)
    return { digital, analog, total: io.pins.length, adcMax: io.RESOLUTION.ADC ?? 1023 }
  }
}
