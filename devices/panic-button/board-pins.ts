/**
 * The buttons' pins on one ready Firmata board (issue 11), for as long as
 * the connection lasts: set up, confirmed, watched for a board that reset,
 * and read only from reports the board confirmed.
 *
 *   setup: each pin's mode + reporting on -> a confirmation round per port
 *   (firmata-port-guard.ts) -> a button is `online` only once a clean round
 *   showed its pin in its mode (a loop: once its first reading came).
 *   every liveness tick: a round per port (the audit), loops checked for
 *   silence; noise on the line: a round soon after, so a report the noise
 *   garbled is recovered.
 *   a clean round finds a pin out of its mode after it was confirmed, or a
 *   loop falls silent: the board reset (announced or not) -> DEVICE_FAULT on
 *   every button of the board, pins set up again, RESTORED when confirmed.
 *   a pin out of its mode right after setup: the board ignores pin setup ->
 *   DEVICE_FAULT on its buttons, set up again every tick until it takes it.
 *
 * Bounds (docs/devices/panic-button.md "Supervision bounds"): a lost setup is
 * found within 2 x liveness_interval_ms of the board answering again (at
 * once after a boot announcement); a port without a clean round for
 * CONFIRM_TICKS x liveness_interval_ms faults its buttons.
 */
import type { Logger } from 'pino'
import type { Clock, TimerHandle } from '../time/clock.js'
import type { FirmataBoardConfig } from './board-config.js'
import type { ButtonChannel } from './button-channel.js'
import type { FirmataFrameTap } from './firmata-frame-filter.js'
import { FirmataPortGuard, Verdict } from './firmata-port-guard.js'
import type { FirmataBoard } from './hw-firmata-board.js'

/** After noise or a dirty round, ask again this much later (a few rounds a second at most while the line babbles). */
const RESYNC_MS = 25
/** A report is "quiet" with no noise this long before it (a noise burst split over several reads comes within ms). */
const QUIET_MS = 100
/** Ticks without a clean round before a port's buttons are faulted. */
export const CONFIRM_TICKS = 4
/** A loop reporting nothing for this many sampling intervals (plus one tick) has lost its setup. */
const LOOP_SILENT_SAMPLES = 10

const MODE_NAMES: Record<number, string> = { 0: 'input', 1: 'output', 2: 'analog', 3: 'pwm', 4: 'servo', 11: 'pull-up input' }
const modeName = (m: number): string => MODE_NAMES[m] ?? `mode ${m}`

interface LoopWatch { ch: ButtonChannel; channel: number; lastSeen: number; seenSinceSetup: boolean }

export class BoardPins implements FirmataFrameTap {
  /** Times the board lost its pin setup and was set up again. */
  resets = 0
  private gen = 0
  private setupAt = 0
  private needSetup = false
  private readonly guards: FirmataPortGuard[] = []
  /** Per guard, the channel of each watched pin (same index as guard.pins). */
  private readonly guardChannels: ButtonChannel[][] = []
  private readonly loops: LoopWatch[] = []
  /** Channels reported online (confirmed) by this connection. */
  private readonly up = new Set<ButtonChannel>()
  private readonly downReason = new Map<ButtonChannel, string>()
  /** Monotonic ms the frame filter last counted noise. */
  private lastNoiseAt = -Infinity
  private resyncTimer: TimerHandle | null = null
  private readonly onResync = (): void => { this.resyncTimer = null; this.resync() }

  constructor(
    private readonly board: FirmataBoard,
    channels: readonly ButtonChannel[],
    private readonly cfg: FirmataBoardConfig,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    for (const ch of channels) {
      const c = ch.config
      if (ch.supervised) { this.loops.push({ ch, channel: c.analog_pin, lastSeen: 0, seenSinceSetup: false }); continue }
      const port = c.pin >> 3
      let i = this.guards.findIndex((g) => g.port === port)
      if (i < 0) { i = this.guards.length; this.guards.push(new FirmataPortGuard(port)); this.guardChannels.push([]) }
      this.guards[i].watch(c.pin, board.inputMode(c.pullup))
      this.guardChannels[i].push(ch)
    }
  }

  /** Reports a clean round contradicted (phantoms caught), over every port. */
  get unconfirmed(): number { return this.guards.reduce((n, g) => n + g.unconfirmed, 0) }

  /** Set every pin up and start confirming; the board is ready. */
  start(): void { this.setupAll() }

  stop(): void {
    if (this.resyncTimer) { this.clock.clearTimeout(this.resyncTimer); this.resyncTimer = null }
  }

  /**
   * Every liveness tick: expire lost rounds, audit every port, look for silent loops and unconfirmed ports.
   * `late`: the tick ran an interval or more behind (a stalled process): answers may be unread, so
   * nothing is judged on it.
   */
  tick(late = false): void {
    const now = this.clock.monotonic()
    if (this.needSetup) { this.needSetup = false; this.setupAll(); return }
    const interval = this.cfg.liveness_interval_ms
    for (let i = 0; i < this.guards.length; i++) {
      const g = this.guards[i]
      g.expire(now, interval)
      if (!g.open) this.round(g)
      const since = now - Math.max(g.lastOk, this.setupAt)
      if (since >= CONFIRM_TICKS * interval && !late) {
        for (const ch of this.guardChannels[i]) {
          this.down(ch, `board "${this.cfg.id}" has not confirmed D${ch.config.pin}'s setup for ${CONFIRM_TICKS * interval} ms ` +
            '(no clean answer to a pin-state query: noise on the line, or firmware without PIN_STATE_QUERY)')
        }
      }
    }
    const silentMs = LOOP_SILENT_SAMPLES * this.cfg.sampling_interval_ms + interval
    // a board silent altogether is hung or unplugged, not reset: FirmataBoard.checkLiveness reports that
    const boardTalks = now - this.board.lastRxMonotonic < interval && !late
    for (const l of this.loops) {
      const quiet = now - l.lastSeen
      if (quiet <= silentMs || !boardTalks) continue
      if (l.seenSinceSetup) {
        this.lost(`board "${this.cfg.id}" lost its pin setup (loop A${l.channel} silent for ${Math.round(quiet)} ms: reset?); pins set up again`)
        return
      }
      this.down(l.ch, `board "${this.cfg.id}" sends no readings for loop A${l.channel} after setting it up: ` +
        'flash StandardFirmata 2.5+ or ConfigurableFirmata')
      this.needSetup = true
    }
  }

  /** The frame filter counted noise: check every port again soon (a report it garbled is recovered). */
  resyncSoon(): void {
    this.lastNoiseAt = this.clock.monotonic()
    if (this.resyncTimer === null) this.resyncTimer = this.clock.setTimeout(this.onResync, RESYNC_MS)
  }

  // --- FirmataFrameTap (called during FirmataFrameFilter.push) ----------------------

  digitalReport(port: number, value: number): void {
    const i = this.guards.findIndex((g) => g.port === port)
    if (i < 0) return
    const g = this.guards[i]
    const stale = g.open && g.roundGen !== this.gen
    const f = this.board.filter
    const now = this.clock.monotonic()
    const quiet = f.noise === f.noiseAtChunkStart && now - this.lastNoiseAt >= QUIET_MS
    // Before the port's first clean round since its (re)setup, a report cannot open a pulse (it may still
    // close one the board reported before): the board is changing the pins' modes, and one not yet made
    // an input reports 0, a pull-up button's pressed level, until its own setup arrives (soak seed
    // 20261207: a reset whose setup reached the board spread out gave D3 a 0-then-1 "press", an alert).
    const v = g.report(value, f.noise, now, quiet, g.lastOk >= this.setupAt)
    if (v === Verdict.QUERY) { if (!g.open) this.round(g); return }
    if (v === Verdict.IGNORE) return
    if (stale) { this.round(g); return } // sent before the last setup: it cannot judge it
    if (v === Verdict.DIRTY) { this.resyncSoon(); return }
    if (v === Verdict.OK) {
      const chans = this.guardChannels[i]
      for (let k = 0; k < chans.length; k++) {
        const p = g.pulseAt(k)
        if (p >= 0) { const [from, to] = g.pulseSpan(k); chans[k].digitalPulse(p, from, to) }
        chans[k].digital(g.levelAt(k), g.edgeAt(k))
        this.confirm(chans[k])
      }
      return
    }
    // WRONG: a pin out of its mode
    const what = `D${g.wrongPin} is ${modeName(g.wrongMode)}, not ${modeName(this.board.inputMode(this.pinChannel(g.wrongPin)?.config.pullup ?? true))}`
    if (g.lastOk >= this.setupAt) {
      this.lost(`board "${this.cfg.id}" lost its pin setup (${what}: reset without announcing?); pins set up again`)
      return
    }
    for (const ch of this.guardChannels[i]) {
      this.down(ch, `board "${this.cfg.id}" answers but ignores pin setup (${what} after being set up): ` +
        'flash StandardFirmata 2.5+ or ConfigurableFirmata')
    }
    this.needSetup = true // again at the next tick, until it takes it
  }

  analogReport(channel: number, value: number): void {
    const l = this.loops.find((x) => x.channel === channel)
    if (!l) return
    const f = this.board.filter
    if (value > this.board.adcMax) { f.rejectedReports++; return }
    l.lastSeen = this.clock.monotonic()
    // A reading from a read that also carried noise may be forged; the next one is 1 sampling interval away.
    if (f.noise !== f.noiseAtChunkStart) { f.rejectedReports++; return }
    if (!l.seenSinceSetup) { l.seenSinceSetup = true; this.confirm(l.ch) }
    l.ch.analog(value)
  }

  pinState(pin: number, mode: number): boolean {
    const g = this.guards.find((x) => x.port === pin >> 3)
    return g !== undefined && g.pinState(pin, mode)
  }

  announced(): void {
    // StandardFirmata announces from setup(): the board booted, the open rounds' answers are lost.
    // A round right away tells (a forged announcement changes nothing: the round finds the pins fine).
    this.log.warn({ port: this.cfg.port }, 'board announced itself again (it booted); checking its pins')
    for (const g of this.guards) { g.abandon(); this.round(g) }
  }

  // --- internals ----------------------------------------------------------------------

  private setupAll(): void {
    this.gen++
    this.setupAt = this.clock.monotonic()
    for (let i = 0; i < this.guards.length; i++) {
      for (const ch of this.guardChannels[i]) this.board.setupDigital(ch.config.pin, ch.config.pullup)
    }
    for (const l of this.loops) {
      this.board.setupAnalog(l.channel)
      l.lastSeen = this.setupAt
      l.seenSinceSetup = false
    }
    // an open round was sent before this setup: its answer only triggers the next round (digitalReport)
    for (const g of this.guards) if (!g.open) this.round(g)
  }

  /** The board reset (its pins are back to their boot modes): fault every button, set everything up again. */
  private lost(reason: string): void {
    this.resets++
    this.log.warn({ port: this.cfg.port, reason }, 'board lost its pin setup')
    for (const chans of this.guardChannels) for (const ch of chans) this.down(ch, reason)
    for (const l of this.loops) this.down(l.ch, reason)
    this.setupAll()
  }

  private round(g: FirmataPortGuard): void {
    g.startRound(this.clock.monotonic(), this.gen, this.board.filter.noise)
    this.board.queryPort(g.port, g.pins)
  }

  private resync(): void {
    for (const g of this.guards) if (!g.open) this.round(g)
  }

  private pinChannel(pin: number): ButtonChannel | undefined {
    for (const chans of this.guardChannels) for (const ch of chans) if (ch.config.pin === pin) return ch
    return undefined
  }

  private confirm(ch: ButtonChannel): void {
    if (this.up.has(ch)) return
    this.up.add(ch)
    this.downReason.delete(ch)
    ch.linkUp()
  }

  private down(ch: ButtonChannel, reason: string): void {
    if (this.downReason.get(ch) === reason) return
    if (!this.downReason.has(ch)) this.log.error({ device: ch.config.id, reason }, 'button pin not confirmed')
    this.up.delete(ch)
    this.downReason.set(ch, reason)
    ch.linkDown(reason)
  }
}
