/**
 * Lets only complete, well-formed Firmata messages through to firmata-io
 * (issue 3 "Bad input": garbage or a half-sent message is ignored and
 * counted, never a phantom press).
 *
 * Why: firmata-io 2.3 treats any 3 buffered bytes starting with 0x90-0x9F as
 * a DIGITAL_MESSAGE without checking that bytes 2 and 3 are data bytes, so a
 * half message followed by the next command decodes as a bogus port value:
 * a phantom press on a pulled-up pin. It also counts nothing it drops.
 *
 * Framing per the Firmata protocol (firmata/protocol, protocol.md): command
 * bytes have bit 7 set; 0x90-0x9F DIGITAL_MESSAGE, 0xE0-0xEF ANALOG_MESSAGE
 * and 0xF9 REPORT_VERSION carry 2 data bytes; 0xF0 .. 0xF7 is a sysex of
 * 7-bit data bytes. Anything else from a board is garbage.
 *
 * Incremental and allocation-free: bytes of the message in progress are kept
 * in a preallocated buffer; complete messages are copied to `out`, which the
 * caller hands on (as a view) before the next push.
 */
const START_SYSEX = 0xf0
const END_SYSEX = 0xf7

/**
 * Sysex replies firmata-io parses without bounds checks (firmata-io 2.3
 * lib/firmata.js: REPORT_FIRMWARE reads a negative-length string from a short
 * reply and throws; PIN_STATE_RESPONSE indexes `pins[pin]` unchecked and
 * throws), with the shortest whole message, F0 and F7 included.
 */
const MIN_SYSEX = new Uint8Array(128)
MIN_SYSEX[0x79] = 5 // REPORT_FIRMWARE: F0 79 major minor [name…] F7
MIN_SYSEX[0x6e] = 6 // PIN_STATE_RESPONSE: F0 6E pin mode state… F7
/** Handshake replies that REPLACE firmata-io's pin tables: from a board already running, they would wipe them. */
const HANDSHAKE_ONLY = new Uint8Array(128)
HANDSHAKE_ONLY[0x6a] = 1 // ANALOG_MAPPING_RESPONSE
HANDSHAKE_ONLY[0x6c] = 1 // CAPABILITY_RESPONSE
HANDSHAKE_ONLY[0x6e] = 1 // PIN_STATE_RESPONSE (we never query pin state after the handshake)
/** Longest sysex accepted (a capability response of a 70-pin Mega is ~700 bytes). */
export const MAX_SYSEX = 2048
const PIN_STATE_RESPONSE = 0x6e
const REPORT_FIRMWARE = 0x79

/**
 * Where the gateway's driver takes the pin messages itself, after the
 * handshake (issue 11): firmata-io would act on any well-formed message, and
 * a well-formed message is not yet a true one (docs/decisions.md "Firmata
 * noise"). Called in stream order, during push().
 */
export interface FirmataFrameTap {
  /** DIGITAL_MESSAGE: `value` holds the port's 8 pins (one with bits above them is counted in rejectedReports). */
  digitalReport(port: number, value: number): void
  /** ANALOG_MESSAGE: channel 0-15, 14-bit reading. */
  analogReport(channel: number, value: number): void
  /** PIN_STATE_RESPONSE: the pin's mode and state (for an input: its pull-up); false = nobody asked (counted in rejectedSysex). */
  pinState(pin: number, mode: number, state: number): boolean
  /** REPORT_FIRMWARE after the handshake: StandardFirmata sends it from setup(), so the board has just booted (it is passed on too). */
  announced(): void
}

export class FirmataFrameFilter {
  /** Bytes that were not part of any message. */
  garbageBytes = 0
  /** Messages cut short by a new command byte, or over-long sysex. */
  halfMessages = 0
  /** Complete messages passed on. */
  messages = 0
  /** Sysex replies dropped because firmata-io could not take them safely (too short, or a handshake reply after the handshake). */
  rejectedSysex = 0
  /** Digital reports no board can send (bits above a port's 8 pins), and readings the driver rejected (above full scale). */
  rejectedReports = 0
  /** Set once the handshake is done: handshake-only replies are then dropped. */
  afterHandshake = false
  /** After the handshake, digital and analog messages and pin states go here instead of `out` (null: all to `out`). */
  tap: FirmataFrameTap | null = null
  /** `noise` when the current push started: a message from a chunk with noise in it is suspect. */
  noiseAtChunkStart = 0
  /** Output of the last push: complete messages, `outLength` bytes. */
  readonly out = Buffer.alloc(64 * 1024 + MAX_SYSEX)
  outLength = 0
  private readonly msg = Buffer.alloc(MAX_SYSEX + 2)
  private msgLen = 0
  /** Data bytes still needed for a short message; -1 = in a sysex; 0 = between messages. */
  private need = 0

  /** Everything that was not a message someone could act on: the line's noise so far. */
  get noise(): number { return this.garbageBytes + this.halfMessages + this.rejectedSysex + this.rejectedReports }

  /** Feed one received chunk (any size up to 64 KiB); complete messages land in out[0..outLength). */
  push(chunk: Uint8Array): number {
    this.noiseAtChunkStart = this.noise
    const tap = this.afterHandshake ? this.tap : null
    let o = 0
    const out = this.out
    const msg = this.msg
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]
      if (this.need === -1) {
        if (b === END_SYSEX) {
          msg[this.msgLen++] = b
          const cmd = this.msgLen > 2 ? msg[1] : 0
          if (tap !== null && cmd === PIN_STATE_RESPONSE && this.msgLen >= MIN_SYSEX[cmd]) {
            this.need = 0
            this.msgLen = 0
            if (tap.pinState(msg[2], msg[3], msg[4])) this.messages++
            else this.rejectedSysex++
            continue
          }
          if (tap !== null && cmd === REPORT_FIRMWARE && this.msgLen >= MIN_SYSEX[cmd]) tap.announced()
          if (this.msgLen < 3 || this.msgLen < MIN_SYSEX[cmd] || (this.afterHandshake && HANDSHAKE_ONLY[cmd] === 1)) {
            this.rejectedSysex++
            this.need = 0
            this.msgLen = 0
            continue
          }
          msg.copy(out, o, 0, this.msgLen)
          o += this.msgLen
          this.need = 0
          this.msgLen = 0
          this.messages++
          continue
        }
        if (b < 0x80) {
          if (this.msgLen < MAX_SYSEX) { msg[this.msgLen++] = b; continue }
          this.halfMessages++ // runaway sysex: drop it, resync on the next command
          this.need = 0
          this.msgLen = 0
          continue
        }
        this.halfMessages++
        this.need = 0
        this.msgLen = 0
      } else if (this.need > 0) {
        if (b < 0x80) {
          msg[this.msgLen++] = b
          if (--this.need === 0) {
            this.msgLen = 0
            this.messages++
            const c = msg[0]
            if (tap === null || c === 0xf9) { out[o++] = c; out[o++] = msg[1]; out[o++] = msg[2] }
            else if (c < 0xa0) {
              // 8 pins per port: bit 7 is the msb's bit 0, the msb's other bits belong to no pin
              if (msg[2] > 1) this.rejectedReports++
              else tap.digitalReport(c & 0x0f, msg[1] | (msg[2] << 7))
            } else tap.analogReport(c & 0x0f, msg[1] | (msg[2] << 7))
          }
          continue
        }
        this.halfMessages++
        this.need = 0
        this.msgLen = 0
      }
      // between messages: expecting a command byte
      if (b === START_SYSEX) { this.need = -1; msg[0] = b; this.msgLen = 1 }
      else if ((b & 0xf0) === 0x90 || (b & 0xf0) === 0xe0 || b === 0xf9) { this.need = 2; msg[0] = b; this.msgLen = 1 }
      else this.garbageBytes++
    }
    this.outLength = o
    return o
  }

  /** Start over (new connection). Counters are kept. */
  resetFraming(): void {
    this.afterHandshake = false
    this.need = 0
    this.msgLen = 0
  }
}
