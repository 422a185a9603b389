/**
 * One Firmata I/O board (Arduino Nano/Uno, RP2040 with StandardFirmata) on
 * USB serial, opened the one way both users open it: the gateway's driver
 * (board-link.ts, hw-firmata.ts) and `safehouse pair button`
 * (provisioning/pair/button-firmata-board.ts). The only file that imports
 * serialport, firmata-io and johnny-five for buttons (DESIGN §4).
 *
 * Stack: serialport 13's `SerialPortStream` on its native binding
 * (devices/host/serial-ports.ts; prebuilt N-API binaries; johnny-five's own
 * optional serialport 8 would compile natively) -> FirmataFrameFilter
 * (only whole, well-formed messages reach firmata-io) -> firmata-io `Firmata`
 * given the filtered port as its transport -> johnny-five `Board({ io })`,
 * with repl, debug and the SIGINT handler off (a library must not own the
 * terminal or the process).
 *
 * One FirmataBoard is one connection: open() -> handshake (version,
 * firmware, capabilities, analog map) -> onBoardReady. Whatever goes wrong
 * (missing port, open refused, no handshake, port error or close, library
 * error, unplugged) closes it and calls onBoardFailed once, with a failure
 * each caller words for its own reader (a gateway log, a technician). Reopening
 * is the caller's job, with a new FirmataBoard, so a late callback of a dead
 * connection can never touch the next one.
 */
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { EventEmitter } from 'node:events'
import type { SerialPortStream } from '@serialport/stream'
import type { Clock, TimerHandle } from '../time/clock.js'
import type { FirmataBoardConfig } from './board-config.js'
import { FirmataFrameFilter } from './firmata-frame-filter.js'
import { FirmataPinTable, type FirmataIo } from './firmata-pin-table.js'
import { describeMissingPort, type BoardFailure, type FirmataBoardEvents } from './firmata-board-events.js'
import { portsForMessage, openSerialPort } from '../host/serial-ports.js'

const require = createRequire(import.meta.url)

type FirmataCtor = new (transport: FilteredTransport, options: Record<string, unknown>) => FirmataIo
interface J5Board extends EventEmitter { timer: ReturnType<typeof setTimeout> | null }
type J5BoardCtor = (new (options: Record<string, unknown>) => J5Board) & { cache: J5Board[] }

interface HwLibs { Firmata: FirmataCtor; J5: J5BoardCtor }
let libs: HwLibs | null = null
/**
 * firmata-io and johnny-five (and serialport's parts, devices/host/serial-ports.ts) load at a
 * board's first open, not when the driver registry is imported (issue 13 §5-6): the embedded
 * broker listens before they are read. A board whose port is absent needs only the serial
 * binding (to list the ports present).
 */
function hw(): HwLibs {
  return (libs ??= {
    Firmata: (require('firmata-io') as { Firmata: FirmataCtor }).Firmata,
    J5: (require('johnny-five') as { Board: J5BoardCtor }).Board,
  })
}

/** Firmata REPORT_VERSION query: every Firmata firmware answers it, so it doubles as a ping. */
const PING = Buffer.from([0xf9])

/** How long close() waits for the port: a vanished device may never call back. */
const CLOSE_WAIT_MS = 1000

/**
 * What firmata-io gets as its transport: the SerialPortStream's events, but "data"
 * carries only complete Firmata messages (FirmataFrameFilter).
 */
class FilteredTransport extends EventEmitter {
  constructor(private readonly port: SerialPortStream) { super() }
  write(data: Buffer, cb?: (err?: Error | null) => void): boolean { return this.port.write(data, cb) }
}

export type BoardPhase = 'opening' | 'handshake' | 'ready' | 'closed'

export class FirmataBoard {
  private phaseNow: BoardPhase = 'opening'
  private lastRx = 0
  private port: SerialPortStream | null = null
  private transport: FilteredTransport | null = null
  private io: FirmataIo | null = null
  private j5: J5Board | null = null
  private table: FirmataPinTable | null = null
  private handshakeTimer: TimerHandle | null = null
  private closing: Promise<void> | null = null
  private readonly onData = (chunk: Buffer): void => this.data(chunk)
  private readonly onHandshakeTimeout = (): void => { this.handshakeTimer = null; this.handshakeTimedOut() }

  /** `filter` may outlive the connection, so that its counters add up over reconnects. */
  constructor(
    readonly cfg: FirmataBoardConfig,
    private readonly clock: Clock,
    private readonly events: FirmataBoardEvents,
    readonly filter: FirmataFrameFilter = new FirmataFrameFilter(),
  ) {}

  get phase(): BoardPhase { return this.phaseNow }
  /** Clock.monotonic() when the last chunk arrived (liveness; bench/panic-latency.ts). */
  get lastRxMonotonic(): number { return this.lastRx }
  /** "StandardFirmata.ino 2.5" as the board names itself; '' when it did not. */
  get firmware(): string {
    const fw = this.io?.firmware
    return fw?.name ? `${fw.name} ${fw.version?.major ?? '?'}.${fw.version?.minor ?? '?'}` : ''
  }

  /** The pins the board reported in the handshake (throws before onBoardReady). */
  get pins(): FirmataPinTable {
    if (!this.table) throw new Error(`board on ${this.cfg.port}: no pin table before the handshake`)
    return this.table
  }

  /** Start opening; the outcome comes as onBoardReady or onBoardFailed. */
  open(): void {
    const path = this.cfg.port
    if (!existsSync(path)) {
      portsForMessage().then(
        (ports) => this.fail({ kind: 'missing', message: describeMissingPort(path, ports) }),
        (e: Error) => this.fail({ kind: 'missing', message: describeMissingPort(path, []) + ` (listing failed: ${e.message})` }),
      )
      return
    }
    const { Firmata, J5 } = hw()
    const port = openSerialPort({ path, baudRate: this.cfg.baud, autoOpen: false })
    this.port = port
    this.filter.resetFraming()
    const transport = new FilteredTransport(port)
    this.transport = transport
    // Built before the port opens: a Nano announces itself right after the reset that opening causes.
    const io = new Firmata(transport, {
      reportVersionTimeout: this.cfg.version_query_ms,
      samplingInterval: this.cfg.sampling_interval_ms,
    })
    this.io = io
    const j5 = new J5({ io, repl: false, debug: false, sigint: false, timeout: this.cfg.handshake_timeout_ms * 2 })
    this.j5 = j5
    // johnny-five and firmata-io emit "error" (an EventEmitter throws without a listener)
    const onError = (e: unknown): void => this.fail({ kind: 'link', message: `board on ${path}: ${errText(e)}` })
    io.on('error', onError)
    j5.on('error', onError)
    j5.on('fail', onError)
    j5.once('ready', () => this.ready())
    port.on('data', this.onData)
    port.on('open', () => transport.emit('open'))
    port.on('error', (e: Error) => this.fail({ kind: 'link', message: `serial port ${path}: ${e.message}` }))
    port.on('close', () => this.fail({ kind: 'link', message: `serial port ${path} closed` }))
    this.handshakeTimer = this.clock.setTimeout(this.onHandshakeTimeout, this.cfg.handshake_timeout_ms)
    port.open((err) => {
      if (this.phaseNow === 'closed') {
        // closed while the OS was opening it: close() found nothing open, so close it now
        if (!err) port.close(noop)
        return
      }
      if (err) {
        this.fail({ kind: 'open', message: `cannot open serial port ${path}: ${err.message}.`, cause: err.message })
        return
      }
      this.phaseNow = 'handshake'
      this.lastRx = this.clock.monotonic()
    })
  }

  /** Make `pin` a digital input (pull-up on when asked) and report its level on every change. */
  watchDigital(pin: number, pullup: boolean, cb: (level: number) => void): void {
    const io = this.io
    if (!io) return
    io.pinMode(pin, pullup ? io.MODES.PULLUP : io.MODES.INPUT)
    io.digitalRead(pin, cb)
  }

  /**
   * The gateway's way (issue 11): make `pin` a digital input and turn its port's
   * reporting on; the levels come through `filter.tap`, not firmata-io. Safe to
   * repeat (a board that reset is set up again): no listener is added.
   */
  setupDigital(pin: number, pullup: boolean): void {
    const io = this.io
    if (!io) return
    io.pinMode(pin, this.inputMode(pullup))
    io.reportDigitalPin(pin, 1)
  }

  /** Turn reporting of analog channel `channel` on; readings come through `filter.tap`. Safe to repeat. */
  setupAnalog(channel: number): void {
    const io = this.io
    if (!io) return
    io.pinMode(channel, io.MODES.ANALOG)
    io.reportAnalogPin(channel, 1)
  }

  /** The Firmata pin mode of a digital input, with or without the pull-up. */
  inputMode(pullup: boolean): number {
    return pullup ? (this.io?.MODES.PULLUP ?? 0x0b) : (this.io?.MODES.INPUT ?? 0)
  }

  /** Full-scale analog reading (1023 on a Nano/Uno; 4095 on 12-bit boards). */
  get adcMax(): number { return this.io?.RESOLUTION.ADC ?? 1023 }

  /**
   * One confirmation round for `port` (firmata-port-guard.ts): PIN_STATE_QUERY
   * for each pin, then REPORT_DIGITAL on, in one write so the board answers in
   * that order.
   */
  queryPort(port: number, pins: readonly number[]): void {
    if (!this.port || this.phaseNow !== 'ready') return
    const b = Buffer.allocUnsafe(pins.length * 4 + 2)
    let o = 0
    for (const pin of pins) { b[o++] = 0xf0; b[o++] = 0x6d; b[o++] = pin & 0x7f; b[o++] = 0xf7 }
    b[o++] = 0xd0 | (port & 0x0f); b[o] = 1
    this.port.write(b)
  }

  /** Report analog channel `channel` every sampling interval. */
  watchAnalog(channel: number, cb: (reading: number) => void): void {
    const io = this.io
    if (!io) return
    io.pinMode(channel, io.MODES.ANALOG)
    io.analogRead(channel, cb)
  }

  /**
   * Liveness check, to be called every liveness_interval_ms once ready: false
   * (and the board failed) when its port path vanished or it has been silent
   * for dead_after_ms; pings a board that has been quiet for an interval.
   * Linux PTYs and some USB adapters never report a close, so silence is the
   * only reliable sign of an unplugged board. `late`: see below (issue 11 soak:
   * a 2 s stall of a loaded machine read as a silent board).
   */
  checkLiveness(late = false): boolean {
    const path = this.cfg.port
    if (!existsSync(path)) {
      this.fail({ kind: 'link', message: `serial port ${path} vanished (board unplugged?)` })
      return false
    }
    const quiet = this.clock.monotonic() - this.lastRx
    // `late`: the caller's tick ran an interval or more behind (the process was stalled), so what the
    // board sent meanwhile is still unread (timers run before I/O): judge silence on the next tick.
    if (quiet > this.cfg.dead_after_ms && !late) {
      this.fail({ kind: 'link', message: `board on ${path} silent for ${Math.round(quiet)} ms (unplugged, reset or hung)` })
      return false
    }
    if (quiet >= this.cfg.liveness_interval_ms) this.port?.write(PING)
    return true
  }

  private data(chunk: Buffer): void {
    this.lastRx = this.clock.monotonic()
    const f = this.filter
    if (f.push(chunk) > 0) {
      try {
        this.transport?.emit('data', f.out.subarray(0, f.outLength))
      } catch (e) {
        // Last line of defence (issue 3 "Bad input"): whatever firmata-io still chokes on
        // is dropped and counted; a board must never crash its user.
        f.rejectedSysex++
        this.events.onMessageDropped(errText(e))
      }
    }
    this.events.onBoardData()
  }

  private ready(): void {
    const io = this.io
    if (!io || this.phaseNow === 'closed') return
    if (this.handshakeTimer) { this.clock.clearTimeout(this.handshakeTimer); this.handshakeTimer = null }
    this.phaseNow = 'ready'
    this.filter.afterHandshake = true
    this.table = new FirmataPinTable(io)
    this.lastRx = this.clock.monotonic()
    this.events.onBoardReady()
  }

  private handshakeTimedOut(): void {
    this.fail({
      kind: 'handshake',
      message: `board on ${this.cfg.port} did not answer the Firmata handshake within ${this.cfg.handshake_timeout_ms} ms`,
      gotVersion: this.io?.versionReceived === true,
    })
  }

  /** Close and tell the owner, once. */
  private fail(failure: BoardFailure): void {
    if (this.phaseNow === 'closed') return
    void this.close()
    this.events.onBoardFailed(failure)
  }

  /** Close the connection; every later callback of it is ignored. Never rejects. */
  close(): Promise<void> {
    if (this.closing) return this.closing
    this.phaseNow = 'closed'
    if (this.handshakeTimer) { this.clock.clearTimeout(this.handshakeTimer); this.handshakeTimer = null }
    const { io, j5, port } = this
    this.transport?.removeAllListeners()
    this.transport = this.io = this.j5 = this.port = null
    if (io) {
      if (io.reportVersionTimeoutId) clearTimeout(io.reportVersionTimeoutId)
      io.removeAllListeners()
      io.on('error', noop)
    }
    if (j5) {
      // johnny-five arms a non-unref'd "connect timeout" and keeps every
      // Board in a module-level cache; drop both or each reconnect leaks one.
      if (j5.timer) clearTimeout(j5.timer)
      j5.removeAllListeners()
      j5.on('error', noop)
      const cache = hw().J5.cache
      const i = cache.indexOf(j5)
      if (i >= 0) cache.splice(i, 1)
    }
    this.closing = closePort(port)
    return this.closing
  }
}

function closePort(port: SerialPortStream | null): Promise<void> {
  if (!port) return Promise.resolve()
  port.removeAllListeners()
  port.on('error', noop)
  if (!port.isOpen) return Promise.resolve()
  return new Promise((resolve) => {
    const t = setTimeout(resolve, CLOSE_WAIT_MS)
    port.close(() => { clearTimeout(t); resolve() })
  })
}

function noop(): void {}

function errText(e: unknown): string {
  if (e instanceof Error) return e.message
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message)
  return String(e)
}
