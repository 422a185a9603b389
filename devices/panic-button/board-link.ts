/**
 * The gateway's link to one `boards:` entry (issue 3 §1, §4): keeps a
 * FirmataBoard (hw-firmata-board.ts) open and maps the buttons configured on
 * it onto its pins.
 *
 *   open -> handshake -> ready: each button's pin checked against the board
 *   (a pin the board does not have faults that button only), the others set
 *   up and confirmed by BoardPins (board-pins.ts: a button is online once the
 *   board confirmed its pin; a board that resets is set up again), then a
 *   liveness tick every liveness_interval_ms (FirmataBoard.checkLiveness,
 *   the pins' audit round) that also drives the buttons' heartbeats.
 *   any failure -> every button on the board gets linkStatus fault (+ one
 *   DEVICE_FAULT per episode) -> reopen after a jittered exponential backoff.
 */
import type { Logger } from 'pino'
import type { Clock, TimerHandle } from '../time/clock.js'
import { Backoff } from '../time/backoff.js'
import type { FirmataBoardConfig } from './board-config.js'
import type { ButtonChannel } from './button-channel.js'
import { FirmataFrameFilter } from './firmata-frame-filter.js'
import type { BoardFailure, FirmataBoardEvents } from './firmata-board-events.js'
import { FirmataBoard } from './hw-firmata-board.js'
import { BoardPins } from './board-pins.js'

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
  /** Times the board lost its pin setup (reset, announced or not) and was set up again. */
  resets: number
}

export class BoardLink implements FirmataBoardEvents {
  lastError = ''
  firmware = ''
  reconnects = 0
  /** One filter for every connection, so its counters add up over reconnects. */
  readonly check = new FirmataFrameFilter()
  /** Between connections: idle (never started), waiting (to reopen) or stopped; else the board's phase. */
  private between: 'idle' | 'waiting' | 'stopped' | null = 'idle'
  private board: FirmataBoard | null = null
  /** The buttons' pins on the ready board (null between connections). */
  private pins: BoardPins | null = null
  /** Resets of earlier connections, and counters already reported. */
  private resetsBefore = 0
  private reportedGarbage = 0
  private reportedHalf = 0
  private reportedSysex = 0
  private reportedRejected = 0
  private reportedUnconfirmed = 0
  private reportedResets = 0
  private unconfirmedBefore = 0
  private livenessTimer: TimerHandle | null = null
  /** Monotonic ms the liveness tick is due. */
  private tickDue = 0
  private retryTimer: TimerHandle | null = null
  /** In a fault episode (logged at error once, then warn per retry). */
  private inFault = false
  private readonly backoff: Backoff
  private readonly onTick = (): void => { this.livenessTimer = null; this.tick() }
  private readonly onRetry = (): void => { this.retryTimer = null; this.reconnects++; this.attempt() }

  constructor(
    readonly cfg: FirmataBoardConfig,
    readonly channels: readonly ButtonChannel[],
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    this.backoff = new Backoff(cfg.reconnect_min_ms, cfg.reconnect_max_ms)
  }

  get state(): BoardState {
    if (this.between !== null) return this.between
    const phase = this.board?.phase ?? 'opening'
    return phase === 'closed' ? 'waiting' : phase
  }

  /** Monotonic ms when the last chunk arrived (diagnostics, bench/panic-latency.ts). */
  get lastRxMonotonic(): number { return this.board?.lastRxMonotonic ?? 0 }

  status(): BoardStatus {
    return {
      id: this.cfg.id, port: this.cfg.port, state: this.state, lastError: this.lastError, firmware: this.firmware,
      reconnects: this.reconnects, garbageBytes: this.check.garbageBytes, halfMessages: this.check.halfMessages,
      resets: this.resets,
    }
  }

  private get resets(): number { return this.resetsBefore + (this.pins?.resets ?? 0) }
  private get unconfirmed(): number { return this.unconfirmedBefore + (this.pins?.unconfirmed ?? 0) }

  attempt(): void {
    if (this.between === 'stopped') return
    this.between = null
    this.board = new FirmataBoard(this.cfg, this.clock, this, this.check)
    this.board.open()
  }

  // --- FirmataBoardEvents ------------------------------------------------------------

  onBoardData(): void {
    const c = this.check
    if (c.garbageBytes !== this.reportedGarbage || c.halfMessages !== this.reportedHalf || c.rejectedSysex !== this.reportedSysex ||
      c.rejectedReports !== this.reportedRejected) {
      // noise: a report it garbled (a press, a release) is asked for again
      this.pins?.resyncSoon()
      this.reportCounters()
    } else if (this.unconfirmed !== this.reportedUnconfirmed || this.resets !== this.reportedResets) this.reportCounters()
  }

  onMessageDropped(err: string): void {
    this.log.warn({ err }, 'firmata-io could not parse a message from the board; dropped')
  }

  onBoardReady(): void {
    const board = this.board
    if (!board) return
    this.lastError = ''
    this.inFault = false
    this.firmware = board.firmware || 'unknown'
    this.backoff.reset()
    this.log.info({ port: this.cfg.port, firmware: this.firmware, pins: board.pins.count }, 'board ready')
    const usable: ButtonChannel[] = []
    for (const ch of this.channels) {
      const problem = this.pinProblem(board, ch)
      if (problem) {
        this.log.error({ device: ch.config.id, problem }, 'button pin cannot be used')
        ch.linkDown(problem)
      } else {
        usable.push(ch)
      }
    }
    // online comes from BoardPins, once the board has confirmed each pin's setup
    this.pins = new BoardPins(board, usable, this.cfg, this.clock, this.log)
    this.check.tap = this.pins
    this.pins.start()
    this.scheduleTick()
  }

  onBoardFailed(f: BoardFailure): void {
    if (this.between !== 'stopped') this.fail(this.describe(f))
  }

  // --- internals -----------------------------------------------------------------------

  /** A failure as the gateway's log and the device fault reason say it: for a maintainer. */
  private describe(f: BoardFailure): string {
    switch (f.kind) {
      case 'open': return f.message + (/permission denied/i.test(f.cause) ? ' Add the gateway user to the "dialout" group.' : '')
      case 'handshake': return f.message + (f.gotVersion ? ' (it sent its version but not its capabilities)' : ' (no reply at all)') +
        `: flash StandardFirmata or ConfigurableFirmata and check boards[].baud (${this.cfg.baud})`
      default: return f.message
    }
  }

  private reportCounters(): void {
    const c = this.check
    const g = c.garbageBytes - this.reportedGarbage
    const h = c.halfMessages - this.reportedHalf
    const x = c.rejectedSysex - this.reportedSysex
    const r = c.rejectedReports - this.reportedRejected
    const u = this.unconfirmed - this.reportedUnconfirmed
    const z = this.resets - this.reportedResets
    this.reportedGarbage = c.garbageBytes
    this.reportedHalf = c.halfMessages
    this.reportedSysex = c.rejectedSysex
    this.reportedRejected = c.rejectedReports
    this.reportedUnconfirmed += u
    this.reportedResets += z
    for (const ch of this.channels) {
      if (g > 0) ch.count('firmata_garbage_bytes', g)
      if (h > 0) ch.count('firmata_half_messages', h)
      if (x > 0) ch.count('firmata_rejected_sysex', x)
      if (r > 0) ch.count('firmata_rejected_reports', r)
      if (u > 0) ch.count('firmata_unconfirmed_reports', u)
      if (z > 0) ch.count('firmata_board_resets', z)
    }
  }

  /** Whether the board has what one button needs; returns a problem text or ''. */
  private pinProblem(board: FirmataBoard, ch: ButtonChannel): string {
    const c = ch.config
    const pins = board.pins
    const where = `board "${this.cfg.id}" (${this.cfg.port}, ${pins.count} pins, ${pins.analogCount} analog)`
    if (ch.supervised) {
      if (!pins.hasAnalogChannel(c.analog_pin)) return `analog pin A${c.analog_pin} does not exist on ${where}; fix analog_pin of "${c.id}"`
      return ''
    }
    if (!pins.hasPin(c.pin)) return `pin D${c.pin} does not exist on ${where}; fix pin of "${c.id}"`
    if (!pins.supportsInput(c.pin, c.pullup)) {
      return `pin D${c.pin} on ${where} does not support ${c.pullup ? 'pull-up input (flash StandardFirmata 2.5+ or set pullup: false with an external resistor)' : 'digital input'}`
    }
    return ''
  }

  private tick(): void {
    const board = this.board
    if (this.state !== 'ready' || !board) return
    // a tick an interval or more behind: the process was stalled, the board's bytes are still unread
    const late = this.clock.monotonic() - this.tickDue >= this.cfg.liveness_interval_ms
    if (!board.checkLiveness(late)) return // failed: onBoardFailed took over
    this.pins?.tick(late)
    this.reportCounters()
    for (const ch of this.channels) ch.heartbeat()
    this.scheduleTick()
  }

  private scheduleTick(): void {
    this.tickDue = this.clock.monotonic() + this.cfg.liveness_interval_ms
    this.livenessTimer = this.clock.setTimeout(this.onTick, this.cfg.liveness_interval_ms)
  }

  private fail(reason: string): void {
    this.dropPins()
    this.stopTimers()
    const first = !this.inFault
    this.inFault = true
    this.lastError = reason
    this.between = 'waiting'
    for (const ch of this.channels) ch.linkDown(reason)
    const delay = this.backoff.next()
    const fields = { port: this.cfg.port, reason, attempt: this.backoff.attempts, retryInMs: delay }
    if (first) this.log.error(fields, 'board fault')
    else this.log.warn(fields, 'board still down')
    this.retryTimer = this.clock.setTimeout(this.onRetry, delay)
  }

  private stopTimers(): void {
    for (const t of [this.livenessTimer, this.retryTimer]) if (t) this.clock.clearTimeout(t)
    this.livenessTimer = this.retryTimer = null
  }

  /** The connection is over: its pins' counters are kept, its rounds forgotten. */
  private dropPins(): void {
    const p = this.pins
    if (!p) return
    p.stop()
    this.resetsBefore += p.resets
    this.unconfirmedBefore += p.unconfirmed
    this.pins = null
    this.check.tap = null
  }

  async stop(): Promise<void> {
    this.between = 'stopped'
    this.dropPins()
    this.stopTimers()
    await this.board?.close()
  }
}
