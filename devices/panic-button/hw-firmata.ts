/**
 * Wired panic buttons on a Firmata I/O board (Arduino Nano/Uno, RP2040 with
 * StandardFirmata) over USB serial, through johnny-five (issue 3 §1, §4).
 * The only file that imports johnny-five, firmata-io and serialport for buttons.
 *
 * Stack: serialport 13 `SerialPort` (prebuilt N-API binaries; johnny-five's
 * own optional serialport 8 would compile natively) -> firmata-io `Firmata`
 * given that port as its transport -> johnny-five `Board({ io })`, with
 * repl, debug and the SIGINT handler off (a library must not own the
 * terminal or the process).
 *
 * Board life cycle, one `BoardLink` per `boards:` entry:
 *   open -> handshake (version, firmware, capabilities, analog map) -> ready
 *   ready: a liveness tick checks the port path still exists and that bytes
 *   keep coming (analog reports or the answer to a REPORT_VERSION ping):
 *   Linux PTYs and some USB adapters never report a close, so silence is the
 *   only reliable sign of an unplugged board.
 *   any failure -> every button on the board gets linkStatus fault (+ one
 *   DEVICE_FAULT per episode) -> reopen after a jittered exponential backoff.
 */
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { EventEmitter } from 'node:events'
import { SerialPort } from 'serialport'
import type { Logger } from 'pino'
import type { Clock, TimerHandle } from '../../gateway/clock.js'
import type { DeviceDriver, DriverContext } from '../device-driver.js'
import type { FirmataBoardConfig } from './board-config.js'
import { ButtonChannel, type PanicButtonDevice } from './button-channel.js'
import { FirmataFrameFilter } from './firmata-frame-filter.js'
import { Backoff } from '../../gateway/backoff.js'

const require = createRequire(import.meta.url)

/** The parts of firmata-io's Board we use (it ships no types). */
interface FirmataIo extends EventEmitter {
  MODES: { INPUT: number; ANALOG: number; PULLUP: number }
  pins: Array<{ supportedModes: number[]; analogChannel: number }>
  analogPins: number[]
  firmware: { name?: string; version?: { major: number; minor: number } }
  reportVersionTimeoutId?: ReturnType<typeof setTimeout>
  pinMode(pin: number, mode: number): void
  digitalRead(pin: number, cb: (value: number) => void): void
  analogRead(channel: number, cb: (value: number) => void): void
}
type FirmataCtor = new (transport: FilteredTransport, options: Record<string, unknown>) => FirmataIo
interface J5Board extends EventEmitter { timer: ReturnType<typeof setTimeout> | null }
type J5BoardCtor = (new (options: Record<string, unknown>) => J5Board) & { cache: J5Board[] }

const { Firmata } = require('firmata-io') as { Firmata: FirmataCtor }
const { Board: J5 } = require('johnny-five') as { Board: J5BoardCtor }

/** Firmata REPORT_VERSION query: every Firmata firmware answers it, so it doubles as a ping. */
const PING = Buffer.from([0xf9])

/**
 * What firmata-io gets as its transport: the SerialPort's events, but "data"
 * carries only complete Firmata messages (FirmataFrameFilter).
 */
class FilteredTransport extends EventEmitter {
  constructor(private readonly port: SerialPort) { super() }
  write(data: Buffer, cb?: (err?: Error | null) => void): boolean { return this.port.write(data, cb) }
}

export interface SerialPortInfoLike { path: string; manufacturer?: string }

/** Error text for a port path that does not exist (issue 3 "Bad input"). */
export function describeMissingPort(path: string, present: readonly SerialPortInfoLike[]): string {
  const list = present.length === 0
    ? 'none'
    : present.map((p) => (p.manufacturer ? `${p.path} (${p.manufacturer})` : p.path)).join(', ')
  return `serial port ${path} not found; serial ports present: ${list}. ` +
    'Check the board\'s USB cable and boards[].port in the config (prefer /dev/serial/by-id/... names).'
}

export type BoardState = 'idle' | 'opening' | 'handshake' | 'ready' | 'waiting' | 'stopped'

export interface BoardStatus {
  id: string
  port: string
  state: BoardState
  lastError: string
  firmware: string
  reconnects: number
  garbageBytes: number
  halfMessages: number
}

class BoardLink {
  state: BoardState = 'idle'
  lastError = ''
  firmware = ''
  reconnects = 0
  readonly check = new FirmataFrameFilter()
  private transport: FilteredTransport | null = null
  private port: SerialPort | null = null
  private io: FirmataIo | null = null
  private j5: J5Board | null = null
  private generation = 0
  private lastRx = 0
  private reportedGarbage = 0
  private reportedHalf = 0
  private reportedSysex = 0
  private handshakeTimer: TimerHandle | null = null
  private livenessTimer: TimerHandle | null = null
  private retryTimer: TimerHandle | null = null
  /** In a fault episode (logged at error once, then warn per retry). */
  private inFault = false
  private readonly backoff: Backoff
  private readonly onData = (chunk: Buffer): void => this.data(chunk)
  private readonly onTick = (): void => { this.livenessTimer = null; this.tick() }
  private readonly onRetry = (): void => { this.retryTimer = null; this.reconnects++; this.attempt() }
  private readonly onHandshakeTimeout = (): void => { this.handshakeTimer = null; this.handshakeTimedOut() }

  constructor(
    readonly cfg: FirmataBoardConfig,
    readonly channels: readonly ButtonChannel[],
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.backoff = new Backoff(cfg.reconnect_min_ms, cfg.reconnect_max_ms)
  }

  status(): BoardStatus {
    return {
      id: this.cfg.id, port: this.cfg.port, state: this.state, lastError: this.lastError, firmware: this.firmware,
      reconnects: this.reconnects, garbageBytes: this.check.garbageBytes, halfMessages: this.check.halfMessages,
    }
  }

  attempt(): void {
    if (this.state === 'stopped') return
    const gen = ++this.generation
    const path = this.cfg.port
    this.state = 'opening'
    if (!existsSync(path)) {
      SerialPort.list().then(
        (ports) => { if (gen === this.generation) this.fail(describeMissingPort(path, ports)) },
        (e: Error) => { if (gen === this.generation) this.fail(describeMissingPort(path, []) + ` (listing failed: ${e.message})`) },
      )
      return
    }
    const port = new SerialPort({ path, baudRate: this.cfg.baud, autoOpen: false })
    this.port = port
    this.check.resetFraming()
    const transport = new FilteredTransport(port)
    this.transport = transport
    const io = new Firmata(transport, {
      reportVersionTimeout: this.cfg.version_query_ms,
      samplingInterval: this.cfg.sampling_interval_ms,
    })
    this.io = io
    const j5 = new J5({ io, repl: false, debug: false, sigint: false, timeout: this.cfg.handshake_timeout_ms * 2 })
    this.j5 = j5
    // johnny-five and firmata-io emit "error" (an EventEmitter throws without a listener)
    const onError = (e: unknown): void => { if (gen === this.generation) this.fail(`board on ${path}: ${errText(e)}`) }
    io.on('error', onError)
    j5.on('error', onError)
    j5.on('fail', onError)
    j5.once('ready', () => { if (gen === this.generation) this.ready() })
    port.on('data', this.onData)
    port.on('open', () => transport.emit('open'))
    port.on('error', (e: Error) => { if (gen === this.generation) this.fail(`serial port ${path}: ${e.message}`) })
    port.on('close', () => { if (gen === this.generation) this.fail(`serial port ${path} closed`) })
    this.handshakeTimer = this.clock.setTimeout(this.onHandshakeTimeout, this.cfg.handshake_timeout_ms)
    port.open((err) => {
      if (gen !== this.generation) return
      if (err) {
        const hint = /permission denied/i.test(err.message) ? ' Add the gateway user to the "dialout" group.' : ''
        this.fail(`cannot open serial port ${path}: ${err.message}.${hint}`)
        return
      }
      this.state = 'handshake'
      this.lastRx = this.clock.monotonic()
    })
  }

  /** Monotonic ms when the last chunk arrived (diagnostics, bench/panic-latency.ts). */
  get lastRxMonotonic(): number { return this.lastRx }

  private data(chunk: Buffer): void {
    this.lastRx = this.clock.monotonic()
    const c = this.check
    if (c.push(chunk) > 0) {
      try {
        this.transport?.emit('data', c.out.subarray(0, c.outLength))
      } catch (e) {
        // Last line of defence (issue 3 "Bad input"): whatever firmata-io still chokes on
        // is dropped and counted; a board must never crash the gateway.
        c.rejectedSysex++
        this.log.warn({ err: errText(e) }, 'firmata-io could not parse a message from the board; dropped')
      }
    }
    if (c.garbageBytes !== this.reportedGarbage || c.halfMessages !== this.reportedHalf || c.rejectedSysex !== this.reportedSysex) this.reportCounters()
  }

  private reportCounters(): void {
    const c = this.check
    const g = c.garbageBytes - this.reportedGarbage
    const h = c.halfMessages - this.reportedHalf
    const x = c.rejectedSysex - this.reportedSysex
    this.reportedGarbage = c.garbageBytes
    this.reportedHalf = c.halfMessages
    this.reportedSysex = c.rejectedSysex
    for (const ch of this.channels) {
      if (g > 0) ch.count('firmata_garbage_bytes', g)
      if (h > 0) ch.count('firmata_half_messages', h)
      if (x > 0) ch.count('firmata_rejected_sysex', x)
    }
  }

  private ready(): void {
    const io = this.io
    if (!io) return
    if (this.handshakeTimer) { this.clock.clearTimeout(this.handshakeTimer); this.handshakeTimer = null }
    this.state = 'ready'
    this.check.afterHandshake = true
    this.lastError = ''
    this.inFault = false
    const fw = io.firmware
    this.firmware = fw.name ? `${fw.name} ${fw.version?.major ?? '?'}.${fw.version?.minor ?? '?'}` : 'unknown'
    this.backoff.reset()
    this.log.info({ port: this.cfg.port, firmware: this.firmware, pins: io.pins.length }, 'board ready')
    for (const ch of this.channels) {
      const problem = this.setupPin(io, ch)
      if (problem) {
        this.log.error({ device: ch.config.id, problem }, 'button pin cannot be used')
        ch.linkDown(problem)
      } else {
        ch.linkUp()
      }
    }
    this.lastRx = this.clock.monotonic()
    this.livenessTimer = this.clock.setTimeout(this.onTick, this.cfg.liveness_interval_ms)
  }

  /** Configure one button's pin; returns a problem text or ''. */
  private setupPin(io: FirmataIo, ch: ButtonChannel): string {
    const c = ch.config
    const where = `board "${this.cfg.id}" (${this.cfg.port}, ${io.pins.length} pins, ${io.analogPins.length} analog)`
    if (ch.supervised) {
      if (io.analogPins[c.analog_pin] === undefined) return `analog pin A${c.analog_pin} does not exist on ${where}; fix analog_pin of "${c.id}"`
      io.pinMode(c.analog_pin, io.MODES.ANALOG)
      io.analogRead(c.analog_pin, (v) => ch.analog(v))
      return ''
    }
    const pin = io.pins[c.pin]
    const mode = c.pullup ? io.MODES.PULLUP : io.MODES.INPUT
    if (!pin) return `pin D${c.pin} does not exist on ${where}; fix pin of "${c.id}"`
    if (!pin.supportedModes.includes(mode)) {
      return `pin D${c.pin} on ${where} does not support ${c.pullup ? 'pull-up input (flash StandardFirmata 2.5+ or set pullup: false with an external resistor)' : 'digital input'}`
    }
    io.pinMode(c.pin, mode)
    io.digitalRead(c.pin, (v) => ch.digital(v))
    return ''
  }

  private tick(): void {
    if (this.state !== 'ready') return
    const path = this.cfg.port
    if (!existsSync(path)) { this.fail(`serial port ${path} vanished (board unplugged?)`); return }
    const quiet = this.clock.monotonic() - this.lastRx
    if (quiet > this.cfg.dead_after_ms) {
      this.fail(`board on ${path} silent for ${Math.round(quiet)} ms (unplugged, reset or hung)`)
      return
    }
    if (quiet >= this.cfg.liveness_interval_ms) this.port?.write(PING)
    for (const ch of this.channels) ch.heartbeat()
    this.livenessTimer = this.clock.setTimeout(this.onTick, this.cfg.liveness_interval_ms)
  }

  private handshakeTimedOut(): void {
    const gotVersion = this.io ? (this.io as unknown as { versionReceived?: boolean }).versionReceived === true : false
    this.fail(`board on ${this.cfg.port} did not answer the Firmata handshake within ${this.cfg.handshake_timeout_ms} ms` +
      (gotVersion ? ' (it sent its version but not its capabilities)' : ' (no reply at all)') +
      `: flash StandardFirmata or ConfigurableFirmata and check boards[].baud (${this.cfg.baud})`)
  }

  private fail(reason: string): void {
    if (this.state === 'stopped') return
    this.teardown()
    const first = !this.inFault
    this.inFault = true
    this.lastError = reason
    this.state = 'waiting'
    for (const ch of this.channels) ch.linkDown(reason)
    const delay = this.backoff.next()
    const fields = { port: this.cfg.port, reason, attempt: this.backoff.attempts, retryInMs: delay }
    if (first) this.log.error(fields, 'board fault')
    else this.log.warn(fields, 'board still down')
    this.retryTimer = this.clock.setTimeout(this.onRetry, delay)
  }

  /** Close the current connection (if any); stale callbacks see a new generation and do nothing. */
  teardown(): Promise<void> {
    this.generation++
    for (const t of [this.handshakeTimer, this.livenessTimer, this.retryTimer]) if (t) this.clock.clearTimeout(t)
    this.handshakeTimer = this.livenessTimer = this.retryTimer = null
    const io = this.io
    const j5 = this.j5
    const port = this.port
    this.transport?.removeAllListeners()
    this.transport = null
    this.io = null
    this.j5 = null
    this.port = null
    if (io) {
      if (io.reportVersionTimeoutId) clearTimeout(io.reportVersionTimeoutId)
      io.removeAllListeners()
      io.on('error', noop)
    }
    if (j5) {
      // johnny-five arms a non-unref'd 10 s "connect timeout" and keeps every
      // Board in a module-level cache; drop both or each reconnect leaks one.
      if (j5.timer) clearTimeout(j5.timer)
      j5.removeAllListeners()
      j5.on('error', noop)
      const i = J5.cache.indexOf(j5)
      if (i >= 0) J5.cache.splice(i, 1)
    }
    if (!port) return Promise.resolve()
    port.removeAllListeners()
    port.on('error', noop)
    if (!port.isOpen) return Promise.resolve()
    return new Promise((resolve) => port.close(() => resolve()))
  }

  async stop(): Promise<void> {
    await this.teardown()
    this.state = 'stopped'
  }
}

function noop(): void {}
function errText(e: unknown): string {
  if (e instanceof Error) return e.message
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message)
  return String(e)
}

export interface FirmataPanicButtonOptions {
  /** Entries of the top-level `boards:` section. */
  boards: readonly FirmataBoardConfig[]
  /** Buttons with `driver: firmata`; each names its board. */
  buttons: readonly PanicButtonDevice[]
}

export class FirmataPanicButtonDriver implements DeviceDriver {
  readonly kind = 'panic-button' as const
  private readonly links: BoardLink[] = []
  private readonly channels: ButtonChannel[] = []
  private stopped = false

  constructor(opts: FirmataPanicButtonOptions, private readonly ctx: DriverContext) {
    const known = opts.boards.map((b) => b.id)
    for (const b of opts.buttons) {
      if (!known.includes(b.config.board)) {
        throw new Error(`panic button "${b.config.id}": board "${b.config.board}" is not in the boards: section (known: ${known.join(', ') || 'none'}); add it or fix board:`)
      }
    }
    for (const bc of opts.boards) {
      const chans = opts.buttons.filter((b) => b.config.board === bc.id).map((b) => new ButtonChannel(b, ctx.clock, ctx.sink))
      if (chans.length === 0) continue // a board nobody uses is not opened
      this.channels.push(...chans)
      this.links.push(new BoardLink(bc, chans, ctx.clock, ctx.log.child({ driver: 'firmata', board: bc.id })))
    }
  }

  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => { void this.stop() }, { once: true })
    for (const ch of this.channels) this.ctx.sink.linkStatus(ch.index, 'starting', '')
    for (const l of this.links) l.attempt()
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const l of [...this.links].reverse()) await l.stop()
    for (const ch of this.channels) {
      ch.dispose()
      this.ctx.sink.linkStatus(ch.index, 'offline', 'stopped')
    }
  }

  /** Clock.monotonic() when board `id` last sent bytes; NaN for an unknown board. */
  lastRxMonotonic(id: string): number {
    const l = this.links.find((x) => x.cfg.id === id)
    return l ? l.lastRxMonotonic : NaN
  }

  /** Board state for device state / `safehouse status`. */
  boards(): BoardStatus[] { return this.links.map((l) => l.status()) }
}
