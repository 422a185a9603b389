/**
 * The lamp-box driver logic (issue 5 §2-3), independent of the Modbus
 * library: a one-transaction-at-a-time scheduler over a ModbusTransport.
 *
 * - Pattern writes go before polls: setPattern() starts the write at once
 *   when the line is idle, else right after the one transaction in flight
 *   (bounded by timeout_ms), so an alarm never waits behind a queue.
 * - A poll tick every poll_ms asks for one status poll and runs supervision;
 *   polls never stack up (a slow line skips ticks, it does not queue them).
 * - A lost port (close event, vanished path) is a fault at once; the port is
 *   reopened with jittered exponential backoff and the pattern rewritten.
 *
 * hw-modbus.ts and sim-lamp-box.ts construct it with their transports.
 */
import type { DeviceDriver, DriverContext, LampActuator, LampPattern } from '../device-driver.js'
import type { TimerHandle } from '../../gateway/clock.js'
import {
  CH_BLUE, CH_RED, HR_PATTERN, IR_BLOCK_LEN, PATTERN_CODE, PATTERN_NAMES, PATTERN_STEADY_MASK, StatusDecoder,
  genericInputSpan, programChannels, programSteadyMask, type DecodeResult, type LampBoxStatus,
} from '../../protocols/lamp-box/register-map.js'
import type { LampBoxConfig } from './config.js'
import { FAULT_PORT_LOST, FAULT_PORT_OPEN, FAULT_WRONG_UNIT, LampSupervisor } from './lamp-supervisor.js'
import { LampBoxTxError, txErrorCounter, type ModbusTransport } from './modbus-transport.js'
import { ReopenBackoff, DEFAULT_BACKOFF, type BackoffOptions } from './reopen-backoff.js'
import { probeUnits, describeProbe } from './unit-probe.js'

export interface LampBoxDriverOptions {
  config: LampBoxConfig
  /** Index in the interned device table. */
  device: number
  ctx: DriverContext
  transport: ModbusTransport
  backoff?: Partial<BackoffOptions>
}

/** Failed polls in a row before we say so (one lost frame on a long line is normal). */
const SILENT_AFTER_FAILS = 2

export class LampBoxDriver implements DeviceDriver, LampActuator {
  readonly kind = 'lamp-box' as const
  readonly supervisor: LampSupervisor
  protected readonly cfg: LampBoxConfig
  protected readonly transport: ModbusTransport
  private readonly ctx: DriverContext
  private readonly device: number
  private readonly decoder = new StatusDecoder()
  private readonly backoff: ReopenBackoff
  private readonly onTick = (): void => this.tick()
  private readonly onHoldExpired = (): void => this.setPattern('normal', 'hold time over')
  private readonly onBlink = (): void => this.blink()
  private desired: number = PATTERN_CODE.normal
  private written = -1
  private writePending = true
  private writeFailed = false // let one poll through after a failed write
  private settle = true // the pattern changed since the last poll: skip current checks once
  private driven = 0 // generic: channels last written to the coils
  private phase = 0
  private pollDue = false
  private busy = false
  private isOpen = false
  private stopped = true
  private gen = 0
  private failStreak = 0
  private lastFailKind = ''
  private answeredSinceOpen = false
  private probedSinceOpen = false
  private tickTimer: TimerHandle | null = null
  private holdTimer: TimerHandle | null = null
  private blinkTimer: TimerHandle | null = null
  private reopenTimer: TimerHandle | null = null
  private lastDiagnosis = ''

  constructor(o: LampBoxDriverOptions) {
    this.cfg = o.config
    this.ctx = o.ctx
    this.device = o.device
    this.transport = o.transport
    this.backoff = new ReopenBackoff({ ...DEFAULT_BACKOFF, ...o.backoff })
    this.supervisor = new LampSupervisor({
      device: o.device, sink: o.ctx.sink, clock: o.ctx.clock, supervisionMs: o.config.supervision_s * 1000,
      confirmPolls: o.config.confirm_polls, minMa: o.config.min_ma, maxMa: o.config.max_ma,
      batteryLowPct: o.config.battery_low_pct,
    })
  }

  /** The pattern the gateway wants now. */
  get pattern(): LampPattern { return PATTERN_NAMES[this.desired] }
  /** The last decoded poll (reused object: copy what you keep). */
  get status(): Readonly<LampBoxStatus> { return this.decoder.status }
  /** Why the link is down, or what a unit probe found; '' when fine. */
  get diagnosis(): string { return this.lastDiagnosis }
  get connected(): boolean { return this.isOpen }

  async start(signal: AbortSignal): Promise<void> {
    if (!this.stopped) return
    this.stopped = false
    signal.addEventListener('abort', () => { void this.stop() }, { once: true })
    this.transport.onLost = (reason) => this.lost(reason)
    this.supervisor.start()
    this.armTick()
    await this.tryOpen()
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    const c = this.ctx.clock
    for (const t of [this.tickTimer, this.holdTimer, this.blinkTimer, this.reopenTimer]) if (t) c.clearTimeout(t)
    this.tickTimer = this.holdTimer = this.blinkTimer = this.reopenTimer = null
    this.transport.onLost = null
    this.isOpen = false
    this.gen++
    await this.transport.close()
    this.supervisor.stopped()
  }

  setPattern(pattern: LampPattern, reason: string): void {
    const code = PATTERN_CODE[pattern]
    if (code === undefined) {
      this.ctx.log.warn({ device: this.cfg.id, pattern, reason }, 'unknown lamp pattern ignored')
      return
    }
    this.ctx.log.info({ device: this.cfg.id, pattern, reason }, 'lamp pattern')
    this.desired = code
    this.writePending = true
    this.writeFailed = false
    this.phase = 0
    const c = this.ctx.clock
    if (this.holdTimer) { c.clearTimeout(this.holdTimer); this.holdTimer = null }
    const holdS = pattern === 'alarm' || pattern === 'neighbour-alarm' ? this.cfg.alarm_hold_s
      : pattern === 'acknowledged' ? this.cfg.ack_hold_s : pattern === 'test' ? this.cfg.test_s : 0
    if (holdS > 0 && !this.stopped) this.holdTimer = c.setTimeout(this.onHoldExpired, holdS * 1000)
    this.armBlink()
    this.pump()
  }

  /** Ask which unit ids answer on the line (provisioning, diagnosis). Waits for the line to be idle. */
  async probe(ids: readonly number[]): Promise<{ answered: number[]; silent: number[] }> {
    if (!this.isOpen) throw new Error(`lamp box "${this.cfg.id}": ${this.transport.describe} is not open: ${this.lastDiagnosis || 'not started'}`)
    while (this.busy) await new Promise((r) => setTimeout(r, 5))
    this.busy = true
    const gen = this.gen
    try {
      return await probeUnits(this.transport, ids, this.cfg.profile)
    } finally {
      if (gen === this.gen) { this.busy = false; this.pump() }
    }
  }

  // --- scheduling -----------------------------------------------------------------

  private armTick(): void {
    if (!this.stopped) this.tickTimer = this.ctx.clock.setTimeout(this.onTick, this.cfg.poll_ms)
  }

  private tick(): void {
    this.tickTimer = null
    this.armTick()
    if (this.isOpen && !this.transport.pathExists()) this.lost(`${this.transport.describe} vanished`)
    this.supervisor.check()
    if (!this.isOpen) return
    this.pollDue = true
    this.pump()
  }

  private pump(): void {
    if (this.busy || !this.isOpen || this.stopped) return
    if (this.writePending && !(this.writeFailed && this.pollDue)) {
      this.busy = true
      void this.doWrite(this.gen)
    } else if (this.pollDue) {
      this.busy = true
      this.pollDue = false
      void this.doPoll(this.gen)
    }
  }

  private armBlink(): void {
    const c = this.ctx.clock
    if (this.blinkTimer) { c.clearTimeout(this.blinkTimer); this.blinkTimer = null }
    if (this.cfg.profile !== 'generic-dido' || this.stopped) return
    if (programSteadyMask(this.program()) < 0) this.blinkTimer = c.setTimeout(this.onBlink, this.cfg.generic.blink_ms)
  }

  private blink(): void {
    this.blinkTimer = null
    this.phase ^= 1
    this.writePending = true
    this.armBlink()
    this.pump()
  }

  private program(): LampBoxConfig['generic']['patterns']['normal'] {
    return this.cfg.generic.patterns[PATTERN_NAMES[this.desired]]
  }

  // --- transactions ------------------------------------------------------------------

  private async doWrite(gen: number): Promise<void> {
    const code = this.desired
    const t = this.transport
    const u = this.cfg.unit_id
    let mask = 0
    try {
      if (this.cfg.profile === 'safehouse') {
        await t.writeRegisters(u, HR_PATTERN, [code, CH_RED | CH_BLUE, this.cfg.watchdog_s])
      } else {
        const g = this.cfg.generic
        mask = programChannels(this.program(), this.phase)
        const red = (mask & CH_RED) !== 0
        const blue = (mask & CH_BLUE) !== 0
        if (g.blue_coil === g.red_coil + 1) await t.writeCoils(u, g.red_coil, [red, blue])
        else if (g.red_coil === g.blue_coil + 1) await t.writeCoils(u, g.blue_coil, [blue, red])
        else { await t.writeCoils(u, g.red_coil, [red]); await t.writeCoils(u, g.blue_coil, [blue]) }
      }
      if (gen !== this.gen) return
      this.answeredSinceOpen = true
      this.written = code
      this.driven = mask
      this.settle = true
      if (this.desired === code) this.writePending = false
      this.writeFailed = false
    } catch (e) {
      if (gen !== this.gen) return
      this.txFailed(e, 'pattern write')
      this.writeFailed = true
      // An exception is the controller refusing the value: retrying at once would only repeat it.
      if (e instanceof LampBoxTxError && e.kind === 'exception') this.writePending = false
    }
    this.busy = false
    this.pump()
  }

  private async doPoll(gen: number): Promise<void> {
    const t = this.transport
    const u = this.cfg.unit_id
    let r: DecodeResult
    try {
      if (this.cfg.profile === 'safehouse') {
        const data = await t.readInputRegisters(u, 0, IR_BLOCK_LEN)
        if (gen !== this.gen) return
        r = this.decoder.decodeSafehouse(data, 0, data.length)
      } else {
        const g = this.cfg.generic
        const span = genericInputSpan(g)
        // Nothing wired to inputs: read a coil back, just to supervise the module.
        const data = span > 0 ? await t.readDiscreteInputs(u, 0, span) : await t.readCoils(u, g.red_coil, 1)
        if (gen !== this.gen) return
        r = this.decoder.decodeGeneric(data, 0, data.length, g, this.driven)
      }
    } catch (e) {
      if (gen !== this.gen) return
      this.txFailed(e, 'poll')
      this.busy = false
      if (this.isOpen && !this.probedSinceOpen && !this.answeredSinceOpen && this.failStreak >= SILENT_AFTER_FAILS) {
        await this.diagnoseUnit(gen)
      }
      if (gen === this.gen) this.pump()
      return
    }
    if (r.ok) this.pollGood(r.value)
    else { this.supervisor.pollFailed('modbus_bad_frame'); this.failStreak++ }
    this.busy = false
    this.pump()
  }

  private pollGood(s: LampBoxStatus): void {
    const wasFailing = this.failStreak >= SILENT_AFTER_FAILS || this.lastDiagnosis !== ''
    this.failStreak = 0
    this.answeredSinceOpen = true
    if (wasFailing) this.lastDiagnosis = ''
    const safehouse = this.cfg.profile === 'safehouse'
    const steady = this.settle ? -1 : safehouse ? PATTERN_STEADY_MASK[this.desired] : programSteadyMask(this.program())
    this.settle = false
    this.supervisor.pollOk(s, steady, safehouse && !this.writePending ? this.written : -1)
    // The controller runs something else (it rebooted, or its watchdog fell back): write ours again.
    if (safehouse && !this.writePending && s.activePattern >= 0 && s.activePattern !== this.desired) {
      this.writePending = true
      this.supervisor.count('lamp_pattern_rewrite')
    }
  }

  private txFailed(e: unknown, what: string): void {
    const err = e instanceof LampBoxTxError ? e : new LampBoxTxError('io', e instanceof Error ? e.message : String(e))
    if (err.kind === 'port_closed' || err.kind === 'io') {
      this.lost(`${what} failed: ${err.message}`)
      return
    }
    this.supervisor.pollFailed(txErrorCounter(err.kind))
    this.failStreak++
    if (err.kind === 'timeout' && !this.transport.pathExists()) {
      this.lost(`${this.transport.describe} vanished`)
      return
    }
    const changed = err.kind !== this.lastFailKind
    this.lastFailKind = err.kind
    if (this.failStreak >= SILENT_AFTER_FAILS && (this.failStreak === SILENT_AFTER_FAILS || changed) && this.answeredSinceOpen) {
      const what = err.kind === 'timeout' ? 'stopped answering' : 'answers with errors'
      this.lastDiagnosis = `lamp box "${this.cfg.id}": unit ${this.cfg.unit_id} on ${this.transport.describe} ${what} (${err.message})`
      this.ctx.log.warn({ device: this.cfg.id, err: err.message }, 'lamp box stopped answering')
      this.supervisor.linkSilent(this.lastDiagnosis)
    }
  }

  /** Our unit never answered since the port opened: find out who does, once per open. */
  private async diagnoseUnit(gen: number): Promise<void> {
    this.probedSinceOpen = true
    this.busy = true
    const ids = this.cfg.probe_unit_ids.filter((id) => id !== this.cfg.unit_id)
    const found = await probeUnits(this.transport, ids, this.cfg.profile)
    if (gen !== this.gen) return
    this.busy = false
    const msg = describeProbe(this.cfg.id, this.transport.describe, this.cfg.unit_id, found)
    this.lastDiagnosis = msg
    this.ctx.log.error({ device: this.cfg.id, answered: found.answered, silent: found.silent }, 'lamp box unit id does not answer')
    if (found.answered.length > 0) this.supervisor.linkFault(FAULT_WRONG_UNIT, msg)
    else this.supervisor.linkSilent(msg)
  }

  // --- port lifecycle ---------------------------------------------------------------------

  private async tryOpen(): Promise<void> {
    this.reopenTimer = null
    if (this.stopped) return
    try {
      await this.transport.open()
    } catch (e) {
      if (this.stopped) return
      const msg = await this.transport.describeOpenError(e)
      if (this.stopped) return
      if (this.backoff.attempts === 0 || msg !== this.lastDiagnosis) this.ctx.log.error({ device: this.cfg.id, err: msg }, 'lamp box port cannot be opened')
      this.lastDiagnosis = msg
      this.supervisor.linkFault(FAULT_PORT_OPEN, msg)
      this.scheduleReopen()
      return
    }
    if (this.stopped) { await this.transport.close(); return }
    this.gen++
    this.isOpen = true
    this.busy = false
    this.failStreak = 0
    this.answeredSinceOpen = false
    this.probedSinceOpen = false
    this.backoff.reset()
    this.writePending = true // the controller may have rebooted while we were away
    this.writeFailed = false
    this.settle = true
    this.pollDue = true
    this.ctx.log.info({ device: this.cfg.id, port: this.transport.describe }, 'lamp box port open')
    this.pump()
  }

  private lost(reason: string): void {
    if (!this.isOpen || this.stopped) return
    this.isOpen = false
    this.gen++
    this.busy = false
    this.lastDiagnosis = `lamp box "${this.cfg.id}": serial port lost (${reason}); reopening`
    this.ctx.log.error({ device: this.cfg.id, reason }, 'lamp box port lost')
    this.supervisor.count('port_lost')
    this.supervisor.linkFault(FAULT_PORT_LOST, this.lastDiagnosis)
    void this.transport.close()
    this.scheduleReopen()
  }

  private scheduleReopen(): void {
    if (this.stopped || this.reopenTimer) return
    this.reopenTimer = this.ctx.clock.setTimeout(() => { void this.tryOpen() }, this.backoff.next())
  }
}
