/**
 * Issue 6 §2: an alert the station has not acknowledged within
 * `station.ack_timeout_s` is sent again (same id, same bytes) and raises one
 * `escalation` alert (value = seconds waited). Escalations themselves are
 * re-sent but never escalate again. Runs once a second; looks at the oldest
 * pending alerts only (the outbox is in acceptance order).
 */
import type { Clock, TimerHandle } from '../../devices/time/clock.js'
import type { Outbox, OutboxEntry } from '../outbox/outbox.js'
import type { DeviceInputSink } from '../../devices/device-driver.js'
import { Kind } from '../../protocols/event-kinds.js'
import type { DeviceTable } from '../core/device-table.js'

const SCAN_LIMIT = 1000

export class AckWatcher {
  private timer: TimerHandle | null = null
  private readonly escalated = new Set<string>()
  escalations = 0
  resends = 0

  constructor(
    private readonly outbox: Outbox,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly sink: DeviceInputSink,
    private readonly devices: DeviceTable,
    private readonly resend: (e: OutboxEntry) => boolean,
  ) {}

  start(): void {
    const tick = () => {
      this.check()
      this.timer = this.clock.setTimeout(tick, 1000)
    }
    this.timer = this.clock.setTimeout(tick, 1000)
  }

  stop(): void {
    if (this.timer) this.clock.clearTimeout(this.timer)
    this.timer = null
  }

  check(): void {
    const now = this.clock.now()
    const pending = this.outbox.oldest(SCAN_LIMIT)
    const live = new Set<string>()
    for (let i = 0; i < pending.length; i++) {
      const e = pending[i]
      live.add(e.id)
      // From the last send (a reconnect replay counts), so a replay is not followed by a resend.
      const since = Number.isNaN(e.lastSentAt) ? e.acceptedAt : e.lastSentAt
      if (now - since < this.timeoutMs) continue
      if (this.resend(e)) this.resends++
      if (!this.escalated.has(e.id)) {
        this.escalated.add(e.id)
        if (!isEscalation(e)) {
          this.escalations++
          const d = this.devices.indexOf(e.device)
          this.sink.input(d < 0 ? 0 : d, Kind.ESCALATION, Math.round((now - e.acceptedAt) / 1000), now, Number.NaN, -1)
        }
      }
    }
    // Forget acknowledged alerts.
    for (const id of this.escalated) if (!live.has(id)) this.escalated.delete(id)
  }
}

function isEscalation(e: OutboxEntry): boolean {
  return e.payload.includes('"kind":"escalation"')
}
