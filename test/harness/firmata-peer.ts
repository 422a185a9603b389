/**
 * A Firmata board for real-stack tests: speaks the Firmata protocol on the
 * peer end of a PtyPair, like StandardFirmata on an Arduino Uno (20 pins:
 * D0-D13, A0-A5 = 14-19).
 *
 * What firmata-io (2.3) needs for its handshake: REPORT_VERSION (0xF9 maj min),
 * then the QUERY_FIRMWARE sysex reply (F0 79 maj min name... F7), then the
 * CAPABILITY_RESPONSE (F0 6C per pin: [mode resolution]* 7F, F7) and the
 * ANALOG_MAPPING_RESPONSE (F0 6A per pin: channel or 7F, F7). A real board
 * announces version + firmware after reset; firmata-io also asks (F9 and
 * F0 79 F7) after `reportVersionTimeout`. This peer answers queries and can
 * announce on demand.
 *
 * Like StandardFirmata 2.5 (issue 11): a fresh or reset board has its digital
 * pins OUTPUT and analog pins ANALOG with no reporting; a port report carries
 * only the bits of its INPUT/PULLUP pins (the others read 0); a port is
 * reported when an input changes and at once when REPORT_DIGITAL turns it on.
 *
 * Misbehaviour for tests, the way field hardware misbehaves: `silent` (never
 * answers), `sendRaw` / `babble` (garbage, half messages, random bytes),
 * `mute` (stops all output, like a hung board), `reset` (power glitch or
 * watchdog: forgets pin modes and reporting, with or without announcing
 * itself), `replyDelayMs` (answers late), `ignorePinSetup` (answers queries
 * but never changes a pin mode), `commandGapMs` (handles one command per pass:
 * a setup's reports leave spread out).
 */
import { SerialPort } from 'serialport'

const MODE = { INPUT: 0x00, OUTPUT: 0x01, ANALOG: 0x02, PWM: 0x03, PULLUP: 0x0b } as const
const PIN_COUNT = 20
const ANALOG_FIRST = 14
const PWM_PINS = new Set([3, 5, 6, 9, 10, 11])

export interface FirmataPeerOptions {
  /** Never answer anything (a board without Firmata, or the wrong baud). */
  silent?: boolean
  /** ms between analog reports of enabled channels (StandardFirmata default 19). */
  samplingMs?: number
  firmwareName?: string
}

export class FirmataPeer {
  readonly port: SerialPort
  silent: boolean
  /** Stop all output (hung board) while still reading. */
  mute = false
  /** Every byte the board sends leaves this much later (a slow or overloaded board), in order. */
  replyDelayMs = 0
  /** Answer queries but ignore SET_PIN_MODE (broken or foreign firmware). */
  ignorePinSetup = false
  /**
   * Handle one command per pass, this many ms apart (a slow board, or the gateway's writes reaching it
   * spread out on a loaded machine): a setup's effects (reports) then leave the board spread out too.
   */
  commandGapMs = 0
  private parseTimer: ReturnType<typeof setTimeout> | null = null
  /** Times reset() ran. */
  resets = 0
  /** Booting after a reset: reads and answers nothing. */
  private booting = false
  private lastPort = new Int16Array(3).fill(-1)
  readonly received: number[] = []
  readonly pinModes = new Map<number, number>()
  private digitalReport = new Set<number>()
  private analogReport = new Set<number>()
  private levels = new Uint8Array(PIN_COUNT)
  private analogValues = new Uint16Array(8)
  private samplingMs: number
  private sampler: ReturnType<typeof setInterval> | null = null
  private rx: number[] = []
  private readonly firmwareName: string
  private waiters: Array<{ test: () => boolean; resolve: () => void }> = []
  versionQueries = 0

  private constructor(port: SerialPort, opts: FirmataPeerOptions) {
    this.port = port
    this.silent = opts.silent ?? false
    this.samplingMs = opts.samplingMs ?? 19
    this.firmwareName = opts.firmwareName ?? 'StandardFirmata.ino'
    // every button is released: a pulled-up contact reads high (it only reads so once its pin is an input)
    this.levels.fill(1)
    this.bootState()
    port.on('data', (d: Buffer) => this.onData(d))
    port.on('error', () => {})
  }

  static async open(path: string, opts: FirmataPeerOptions = {}): Promise<FirmataPeer> {
    const port = new SerialPort({ path, baudRate: 57600, autoOpen: false })
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())))
    const peer = new FirmataPeer(port, opts)
    peer.sampler = setInterval(() => peer.sample(), peer.samplingMs)
    return peer
  }

  async close(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler)
    this.sampler = null
    if (this.parseTimer) clearTimeout(this.parseTimer)
    this.parseTimer = null
    this.port.removeAllListeners('data')
    if (this.port.isOpen) await new Promise<void>((r) => this.port.close(() => r()))
  }

  /** Boot announcement of a real board: version then firmware. */
  announce(): void {
    this.write([0xf9, 2, 5])
    this.writeFirmware()
  }

  /**
   * Set a pin's level (what the wire does: a button holds it low whatever the board
   * thinks); the port is reported if it is reporting and its input bits changed.
   * Returns hrtime of the write (0n if nothing was sent).
   */
  setDigital(pin: number, level: 0 | 1): bigint {
    this.levels[pin] = level
    const port = pin >> 3
    if (!this.digitalReport.has(port) || this.portValue(port) === this.lastPort[port]) return 0n
    const t = process.hrtime.bigint()
    this.sendPort(port)
    return t
  }

  /**
   * The board resets (brown-out, USB re-enumeration, its own watchdog): it forgets
   * every pin mode and report, is deaf and mute for `bootMs` (the bootloader), then
   * runs StandardFirmata's setup: announces version and firmware if `announce`.
   */
  async reset(opts: { announce: boolean; bootMs?: number }): Promise<void> {
    this.resets++
    this.booting = true
    this.bootState()
    if (opts.bootMs) await new Promise((r) => setTimeout(r, opts.bootMs))
    this.rx = []
    if (this.parseTimer) { clearTimeout(this.parseTimer); this.parseTimer = null }
    this.booting = false
    if (opts.announce) this.announce()
  }

  /** `n` random bytes from `rnd` on the line (a loose connector, a board booting), in chunks of 1..64. */
  babble(n: number, rnd: () => number): void {
    for (let sent = 0; sent < n;) {
      const len = Math.min(n - sent, 1 + Math.floor(rnd() * 64))
      const b = Buffer.alloc(len)
      for (let i = 0; i < len; i++) b[i] = Math.floor(rnd() * 256)
      this.sendRaw(b)
      sent += len
    }
  }

  /** Set an analog channel's reading (0-1023); reported at the next sampling tick. */
  setAnalog(channel: number, value: number): void {
    this.analogValues[channel] = value
  }

  sendRaw(bytes: number[] | Buffer): void {
    this.out(Buffer.from(bytes))
  }

  isReportingDigital(pin: number): boolean { return this.digitalReport.has(pin >> 3) }
  isReportingAnalog(channel: number): boolean { return this.analogReport.has(channel) }

  /** Resolve once `test` holds (checked after every received chunk), or reject after timeoutMs. */
  async until(test: () => boolean, what: string, timeoutMs = 10000): Promise<void> {
    if (test()) return
    await new Promise<void>((resolve, reject) => {
      const w = { test, resolve: () => { clearTimeout(timer); resolve() } }
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w)
        reject(new Error(`firmata peer: timed out waiting for ${what}`))
      }, timeoutMs)
      this.waiters.push(w)
    })
  }

  private write(bytes: number[]): void {
    if (this.silent || this.mute || this.booting) return
    this.out(Buffer.from(bytes))
  }

  /** Every byte leaves through here, `replyDelayMs` late and in order. */
  private out(b: Buffer): void {
    if (this.replyDelayMs <= 0) { this.port.write(b); return }
    // same delay for every write: Node fires equal timeouts in the order they were set
    setTimeout(() => { if (this.port.isOpen) this.port.write(b) }, this.replyDelayMs)
  }

  /** StandardFirmata after power-up or reset: digital pins OUTPUT, analog pins ANALOG, nothing reported. */
  private bootState(): void {
    for (let p = 2; p < PIN_COUNT; p++) this.pinModes.set(p, p >= ANALOG_FIRST ? MODE.ANALOG : MODE.OUTPUT)
    this.digitalReport.clear()
    this.analogReport.clear()
    this.lastPort.fill(-1)
  }

  /** A port as StandardFirmata reads it: only INPUT/PULLUP pins carry their level, the others read 0. */
  private portValue(port: number): number {
    let v = 0
    for (let i = 0; i < 8; i++) {
      const pin = port * 8 + i
      const m = this.pinModes.get(pin)
      if (pin < PIN_COUNT && (m === MODE.INPUT || m === MODE.PULLUP) && this.levels[pin]) v |= 1 << i
    }
    return v
  }

  private sendPort(port: number): void {
    const v = this.portValue(port)
    this.lastPort[port] = v
    this.write([0x90 | port, v & 0x7f, (v >> 7) & 0x7f])
  }

  private sample(): void {
    for (const ch of this.analogReport) {
      const v = this.analogValues[ch]
      this.write([0xe0 | ch, v & 0x7f, (v >> 7) & 0x7f])
    }
  }

  private writeFirmware(): void {
    const out = [0xf0, 0x79, 2, 5]
    for (const c of Buffer.from(this.firmwareName)) out.push(c & 0x7f, c >> 7)
    out.push(0xf7)
    this.write(out)
  }

  private onData(d: Buffer): void {
    if (this.booting) return // the bootloader eats what arrives while it runs
    for (const b of d) { this.received.push(b); this.rx.push(b) }
    if (this.parseTimer === null) this.parse()
    this.wake()
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => { if (w.test()) { w.resolve(); return false } return true })
  }

  /** Minimal StandardFirmata command parser (firmata protocol.md). */
  private parse(): void {
    const rx = this.rx
    for (let handled = 0; ; handled++) {
      while (rx.length > 0 && rx[0] < 0x80) rx.shift() // stray data bytes
      if (rx.length === 0) return
      if (handled > 0 && this.commandGapMs > 0) {
        this.parseTimer = setTimeout(() => { this.parseTimer = null; this.parse(); this.wake() }, this.commandGapMs)
        return
      }
      const cmd = rx[0]
      if (cmd === 0xf0) {
        const end = rx.indexOf(0xf7)
        if (end < 0) return
        this.sysex(rx.splice(0, end + 1).slice(1, -1))
        continue
      }
      const hi = cmd & 0xf0
      const len = cmd === 0xf9 || cmd === 0xff ? 1 : hi === 0xc0 || hi === 0xd0 ? 2 : 3
      if (rx.length < len) return
      const m = rx.splice(0, len)
      if (cmd === 0xf9) { this.versionQueries++; this.write([0xf9, 2, 5]) }
      else if (cmd === 0xf4) this.setMode(m[1], m[2])
      else if (hi === 0xd0) {
        const port = cmd & 0x0f
        if (m[1]) { this.digitalReport.add(port); this.sendPort(port) } else this.digitalReport.delete(port)
      } else if (hi === 0xc0) {
        if (m[1]) this.analogReport.add(cmd & 0x0f); else this.analogReport.delete(cmd & 0x0f)
      } else if (cmd === 0xff) this.bootState()
    }
  }

  private setMode(pin: number, mode: number): void {
    if (this.ignorePinSetup) return
    this.pinModes.set(pin, mode)
    // StandardFirmata's loop reports a port whose input bits changed (a pin that became an input)
    const port = pin >> 3
    if (this.digitalReport.has(port) && this.portValue(port) !== this.lastPort[port]) this.sendPort(port)
  }

  private sysex(body: number[]): void {
    const [id] = body
    if (id === 0x79) this.writeFirmware()
    else if (id === 0x6b) {
      const out = [0xf0, 0x6c]
      for (let p = 0; p < PIN_COUNT; p++) {
        if (p > 1) {
          out.push(MODE.INPUT, 1, MODE.OUTPUT, 1, MODE.PULLUP, 1)
          if (PWM_PINS.has(p)) out.push(MODE.PWM, 8)
          if (p >= ANALOG_FIRST) out.push(MODE.ANALOG, 10)
        }
        out.push(0x7f)
      }
      out.push(0xf7)
      this.write(out)
    } else if (id === 0x69) {
      const out = [0xf0, 0x6a]
      for (let p = 0; p < PIN_COUNT; p++) out.push(p >= ANALOG_FIRST ? p - ANALOG_FIRST : 0x7f)
      out.push(0xf7)
      this.write(out)
    } else if (id === 0x6d) {
      const pin = body[1]
      // state of an input pin = its pull-up (StandardFirmata 2.5 PIN_STATE_RESPONSE)
      const mode = this.pinModes.get(pin) ?? MODE.OUTPUT
      this.write([0xf0, 0x6e, pin, mode, mode === MODE.PULLUP ? 1 : 0, 0xf7])
    } else if (id === 0x7a) {
      const ms = body[1] | (body[2] << 7)
      if (ms > 0 && this.sampler) { clearInterval(this.sampler); this.samplingMs = ms; this.sampler = setInterval(() => this.sample(), ms) }
    }
  }
}
