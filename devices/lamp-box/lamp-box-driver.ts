/**
 * The lamp-box driver logic (issue 5 §2-3), independent of the Modbus
 * library: a one-transaction-at-a-time scheduler over a ModbusTransport.
 *
 * - Pattern writes go before polls: setPattern() starts the write at once
 *   when the line is idle, else right after the one transaction in flight
 *   (bounded by timeout_ms), so an alarm never waits behind a queue.
 * - A pattern the controller is confirmed to show is not written again
 *   (issue 13 §1: one Modbus write per alert in a storm). Confirmed = our
 *   write of it was answered, or a poll read it back, and nothing since put
 *   that in doubt: a poll that reads another pattern (a reset, another
 *   master), any failed transaction (a write that timed out may or may not
 *   have landed), a lost or reopened port. Only profiles that report the
 *   running pattern can confirm; the generic DI/DO module is written on
 *   every setPattern() as before.
 * - A poll tick every poll_ms asks for one status poll and runs supervision;
 *   polls never stack up (a slow line skips ticks, it does not queue them).
 * - A lost port (close event, vanished path) is a fault at once; the port is
 *   reopened with jittered exponential backoff (lamp-port.ts) and the
 *   pattern rewritten.
 *
 * What differs per lamp box (how a pattern is written and the status read,
 * who blinks) is its LampProfile (lamp-profile.ts); what is said about the
 * line is LineDiagnosis (line-diagnosis.ts). hw-modbus.ts and
 * sim-lamp-box.ts construct it with their transports.
 */
import type { DeviceDriver, DriverContext, LampActuator, LampPattern } from '../device-driver.js'
import type { TimerHandle } from '../time/clock.js'
import {
  PATTERN_CODE, PATTERN_NAMES, StatusDecoder, type DecodeResult, type LampBoxStatus,
} from '../../protocols/lamp-box/register-map.js'
import type { LampBoxConfig } from './config.js'
import type { LampProfile } from './lamp-profile.js'
import { lampProfile } from './pick-lamp-profile.js'
import { LampSupervisor } from './lamp-supervisor.js'
import { LampPort } from './lamp-port.js'
import { LineDiagnosis } from './line-diagnosis.js'
import { LampBoxTxError, type ModbusTransport } from './modbus-transport.js'
import type { BackoffOptions } from './reopen-backoff.js'
import { probeUnits } from './unit-probe.js'

export interface LampBoxDriverOptions {
  config: LampBoxConfig
  /** Index in the interned device table. */
  device: number
  ctx: DriverContext
  transport: ModbusTransport
  backoff?: Partial<BackoffOptions>
}

export class LampBoxDriver implements DeviceDriver, LampActuator {
  readonly kind = 'lamp-box' as const
  readonly supervisor: LampSupervisor
  protected readonly cfg: LampBoxConfig
  protected readonly transport: ModbusTransport
  private readonly ctx: DriverContext
  private readonly profile: LampProfile
  private readonly line: LineDiagnosis
  private readonly port: LampPort
  private readonly decoder = new StatusDecoder()
  private readonly onTick = (): void => this.tick()
  private readonly onHoldTimer = (): void => this.holdTimerFired()
  private readonly onBlink = (): void => this.blink()
  private readonly onMissCheck = (): void => { this.missTimer = null; this.supervisor.check(); this.armMissCheck() }
  private desired: number = PATTERN_CODE.normal
  private written = -1
  /** Pattern code the controller is confirmed to show (see the header); -1 = not known. */
  private confirmed = -1
  private writePending = true
  private writeFailed = false // let one poll through after a failed write
  private settle = true // the pattern changed since the last poll: skip current checks once
  private driven = 0 // channels our last write drove (generic profile)
  private phase = 0 // blink phase, where the gateway blinks
  private pollDue = false
  private busy = false
  private stopped = true
  private tickTimer: TimerHandle | null = null
  private holdTimer: TimerHandle | null = null
  /** Monotonic ms: when the pattern's hold ends, and when the armed hold timer fires (see armHold). */
  private holdUntil = 0
  private holdTimerAt = 0
  private blinkTimer: TimerHandle | null = null
  private missTimer: TimerHandle | null = null

  constructor(o: LampBoxDriverOptions) {
    this.cfg = o.config
    this.ctx = o.ctx
    this.transport = o.transport
    this.profile = lampProfile(o.config)
    this.supervisor = new LampSupervisor({
      device: o.device, sink: o.ctx.sink, clock: o.ctx.clock, supervisionMs: o.config.supervision_s * 1000,
      confirmPolls: o.config.confirm_polls, minMa: o.config.min_ma, maxMa: o.config.max_ma,
      batteryLowPct: o.config.battery_low_pct,
    })
    this.line = new LineDiagnosis(o.config, this.supervisor, o.ctx.log, o.transport, () => o.ctx.clock.monotonic())
    o.transport.onGarbage = (bytes) => this.line.noise(bytes)
    this.port = new LampPort(o.transport, o.ctx.clock, this.line, {
      portOpened: () => this.portOpened(),
      portLost: () => { this.busy = false; this.confirmed = -1 },
    }, o.backoff)
  }

  /** The pattern the gateway wants now. */
  get pattern(): LampPattern { return PATTERN_NAMES[this.desired] }
  /** The last decoded poll (reused object: copy what you keep). */
  get status(): Readonly<LampBoxStatus> { return this.decoder.status }
  /** Why the link is down, or what a unit probe found; '' when fine. */
  get diagnosis(): string { return this.line.text }
  get connected(): boolean { return this.port.isOpen }

  async start(signal: AbortSignal): Promise<void> {
    if (!this.stopped) return
    this.stopped = false
    signal.addEventListener('abort', () => { void this.stop() }, { once: true })
    this.supervisor.start()
    this.armTick()
    this.armMissCheck()
    await this.port.start()
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    const c = this.ctx.clock
    for (const t of [this.tickTimer, this.holdTimer, this.blinkTimer, this.missTimer]) if (t) c.clearTimeout(t)
    this.tickTimer = this.holdTimer = this.blinkTimer = this.missTimer = null
    await this.port.stop()
    this.supervisor.stopped()
  }

  setPattern(pattern: LampPattern, reason: string): void {
    const code = PATTERN_CODE[pattern]
    if (code === undefined) {
      this.ctx.log.warn({ device: this.cfg.id, pattern, reason }, 'unknown lamp pattern ignored')
      return
    }
    // Already showing it, confirmed (another alert of a storm): the hold time starts again, no write.
    const shown = code === this.desired && code === this.confirmed && !this.writePending
    this.armHold(pattern)
    if (shown) return
    this.ctx.log.info({ device: this.cfg.id, pattern, reason }, 'lamp pattern')
    this.desired = code
    this.writePending = true
    this.writeFailed = false
    this.phase = 0
    this.armBlink()
    this.pump()
  }

  /**
   * (Re)start the time `pattern` is held before the lamp goes back to normal. Each alert of a
   * storm only moves the deadline (issue 13 §1: no clearTimeout/setTimeout per alert); the one
   * timer, when it fires early, waits for the rest. It is re-armed only when the new deadline
   * comes before it (a shorter hold: acknowledged after alarm).
   */
  private armHold(pattern: LampPattern): void {
    const c = this.ctx.clock
    const holdS = pattern === 'alarm' || pattern === 'neighbour-alarm' ? this.cfg.alarm_hold_s
      : pattern === 'acknowledged' ? this.cfg.ack_hold_s : pattern === 'test' ? this.cfg.test_s : 0
    if (holdS <= 0 || this.stopped) {
      this.holdUntil = 0
      if (this.holdTimer) { c.clearTimeout(this.holdTimer); this.holdTimer = null }
      return
    }
    const now = c.monotonic()
    this.holdUntil = now + holdS * 1000
    if (this.holdTimer && this.holdTimerAt <= this.holdUntil) return
    if (this.holdTimer) c.clearTimeout(this.holdTimer)
    this.holdTimerAt = this.holdUntil
    this.holdTimer = c.setTimeout(this.onHoldTimer, holdS * 1000)
  }

  private holdTimerFired(): void {
    this.holdTimer = null
    const left = this.holdUntil - this.ctx.clock.monotonic()
    if (left > 0 && !this.stopped) {
      this.holdTimerAt = this.holdUntil
      this.holdTimer = this.ctx.clock.setTimeout(this.onHoldTimer, Math.ceil(left))
      return
    }
    this.holdUntil = 0
    this.setPattern('normal', 'hold time over')
  }

  /** Ask which unit ids answer on the line (provisioning, diagnosis). Waits for the line to be idle. */
  async probe(ids: readonly number[]): Promise<{ answered: number[]; silent: number[] }> {
    if (!this.port.isOpen) throw new Error(`lamp box "${this.cfg.id}": ${this.transport.describe} is not open: ${this.line.text || 'not started'}`)
    while (this.busy) await new Promise((r) => setTimeout(r, 5))
    this.busy = true
    const gen = this.port.gen
    try {
      return await probeUnits(this.transport, ids, this.cfg.profile)
    } finally {
      if (gen === this.port.gen) { this.busy = false; this.pump() }
    }
  }

  // --- scheduling -----------------------------------------------------------------

  private armTick(): void {
    if (!this.stopped) this.tickTimer = this.ctx.clock.setTimeout(this.onTick, this.cfg.poll_ms)
  }

  /**
   * `missing` is due supervision_s after the last good poll, not at the next poll tick after
   * that (issue 11 §10: up to one poll_ms late). One timer, re-armed only when it fires early
   * (polls came meanwhile) or after a restore: no timer work per poll.
   */
  private armMissCheck(): void {
    if (this.stopped || this.missTimer) return
    const ms = this.supervisor.remainingMs()
    if (ms !== Infinity) this.missTimer = this.ctx.clock.setTimeout(this.onMissCheck, Math.max(1, Math.ceil(ms)))
  }

  private tick(): void {
    this.tickTimer = null
    this.armTick()
    if (this.port.isOpen && !this.transport.pathExists()) this.port.lost(`${this.transport.describe} vanished`)
    this.supervisor.check()
    if (!this.port.isOpen) return
    this.pollDue = true
    this.pump()
  }

  private pump(): void {
    if (this.busy || !this.port.isOpen || this.stopped) return
    if (this.writePending && !(this.writeFailed && this.pollDue)) {
      this.busy = true
      void this.doWrite(this.port.gen)
    } else if (this.pollDue) {
      this.busy = true
      this.pollDue = false
      void this.doPoll(this.port.gen)
    }
  }

  /** A pattern the profile cannot show steadily is blinked by rewriting it every half-period. */
  private armBlink(): void {
    const c = this.ctx.clock
    if (this.blinkTimer) { c.clearTimeout(this.blinkTimer); this.blinkTimer = null }
    if (this.stopped) return
    const ms = this.profile.blinkMs(this.desired)
    if (ms > 0) this.blinkTimer = c.setTimeout(this.onBlink, ms)
  }

  private blink(): void {
    this.blinkTimer = null
    this.phase ^= 1
    this.writePending = true
    this.armBlink()
    this.pump()
  }

  // --- transactions ------------------------------------------------------------------

  private async doWrite(gen: number): Promise<void> {
    const code = this.desired
    this.confirmed = -1 // until the controller answers, it may show the old pattern or the new one
    try {
      const mask = await this.profile.write(this.transport, code, this.phase)
      if (gen !== this.port.gen) return
      this.line.wrote()
      this.written = code
      if (this.profile.reportsPattern) this.confirmed = code
      this.driven = mask
      this.settle = true
      if (this.desired === code) this.writePending = false
      this.writeFailed = false
    } catch (e) {
      if (gen !== this.port.gen) return
      this.txFailed(e, 'pattern write')
      this.writeFailed = true
      // An exception is the controller refusing the value: retrying at once would only repeat it.
      if (e instanceof LampBoxTxError && e.kind === 'exception') this.writePending = false
    }
    this.busy = false
    this.pump()
  }

  private async doPoll(gen: number): Promise<void> {
    let r: DecodeResult
    try {
      const data = await this.profile.read(this.transport)
      if (gen !== this.port.gen) return
      r = this.profile.decode(this.decoder, data, this.driven)
    } catch (e) {
      if (gen !== this.port.gen) return
      this.txFailed(e, 'poll')
      this.busy = false
      if (this.port.isOpen && this.line.shouldProbe) await this.diagnoseUnit(gen)
      if (gen === this.port.gen) this.pump()
      return
    }
    if (r.ok) this.pollGood(r.value)
    else this.line.badFrame()
    this.busy = false
    this.pump()
  }

  private pollGood(s: LampBoxStatus): void {
    this.line.pollOk()
    const p = this.profile
    const steady = this.settle ? -1 : p.steadyMask(this.desired)
    this.settle = false
    const expect = p.reportsPattern && !this.writePending
    this.supervisor.pollOk(s, steady, expect ? this.written : -1)
    if (!this.missTimer) this.armMissCheck() // after a restore: supervise again
    // The controller runs something else (it rebooted, or its watchdog fell back): write ours again.
    if (expect && s.activePattern >= 0 && s.activePattern !== this.desired) {
      this.confirmed = -1
      this.writePending = true
      this.supervisor.count('lamp_pattern_rewrite')
    } else if (expect && s.activePattern === this.desired) this.confirmed = this.desired
  }

  private txFailed(e: unknown, what: string): void {
    // Whatever the controller shows now is not known: a timed-out write may or may not have
    // landed, and a controller that stopped answering may be rebooting. The next setPattern writes.
    this.confirmed = -1
    const lost = this.line.txFailed(e, what)
    if (lost) this.port.lost(lost)
  }

  /** Our unit never answered since the port opened: find out who does, once per open. */
  private async diagnoseUnit(gen: number): Promise<void> {
    this.line.probeStarted()
    this.busy = true
    const found = await probeUnits(this.transport, this.line.probeIds, this.cfg.profile)
    if (gen !== this.port.gen) return
    this.busy = false
    this.line.unitProbed(found)
  }

  /** The port is open (again): the line is idle; write the pattern, then poll. */
  private portOpened(): void {
    this.busy = false
    this.writePending = true // the controller may have rebooted while we were away
    this.confirmed = -1
    this.writeFailed = false
    this.settle = true
    this.pollDue = true
    this.pump()
  }
}
