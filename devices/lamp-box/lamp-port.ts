/**
 * Keeps the lamp box's serial port open (issue 5 §3): opens it, takes a lost
 * port (the transport's close event, or the driver finding its path gone) as
 * a fault at once, and reopens it after a jittered exponential backoff.
 *
 * Every open and every loss starts a new generation: a transaction begun in
 * an older one finds `gen` changed when it completes and drops its result,
 * so a late reply can never be taken for one on the new connection.
 */
import type { Clock, TimerHandle } from '../time/clock.js'
import type { LineDiagnosis } from './line-diagnosis.js'
import type { ModbusTransport } from './modbus-transport.js'
import { ReopenBackoff, DEFAULT_BACKOFF, type BackoffOptions } from './reopen-backoff.js'

/** What the driver does when the port comes and goes. */
export interface LampPortEvents {
  /** Open (again): the line is idle and the controller may have rebooted meanwhile. */
  portOpened(): void
  /** Lost: whatever was in flight is void. */
  portLost(): void
}

export class LampPort {
  isOpen = false
  gen = 0
  private stopped = true
  private reopenTimer: TimerHandle | null = null
  private readonly backoff: ReopenBackoff

  constructor(
    private readonly transport: ModbusTransport,
    private readonly clock: Clock,
    private readonly line: LineDiagnosis,
    private readonly events: LampPortEvents,
    backoff?: Partial<BackoffOptions>,
  ) {
    this.backoff = new ReopenBackoff({ ...DEFAULT_BACKOFF, ...backoff })
  }

  async start(): Promise<void> {
    this.stopped = false
    this.transport.onLost = (reason) => this.lost(reason)
    await this.tryOpen()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.reopenTimer) { this.clock.clearTimeout(this.reopenTimer); this.reopenTimer = null }
    this.transport.onLost = null
    this.isOpen = false
    this.gen++
    await this.transport.close()
  }

  /** The port is gone (`reason` says how): fault now, reopen later. */
  lost(reason: string): void {
    if (!this.isOpen || this.stopped) return
    this.isOpen = false
    this.gen++
    this.events.portLost()
    this.line.portLost(reason)
    void this.transport.close()
    this.scheduleReopen()
  }

  private async tryOpen(): Promise<void> {
    this.reopenTimer = null
    if (this.stopped) return
    try {
      await this.transport.open()
    } catch (e) {
      if (this.stopped) return
      const msg = await this.transport.describeOpenError(e)
      if (this.stopped) return
      this.line.openFailed(msg, this.backoff.attempts === 0)
      this.scheduleReopen()
      return
    }
    if (this.stopped) { await this.transport.close(); return }
    this.gen++
    this.isOpen = true
    this.backoff.reset()
    this.line.portOpened()
    this.events.portOpened()
  }

  private scheduleReopen(): void {
    if (this.stopped || this.reopenTimer) return
    this.reopenTimer = this.clock.setTimeout(() => { void this.tryOpen() }, this.backoff.next())
  }
}
