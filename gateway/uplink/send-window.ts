/**
 * Paces alerts to the station by its acks (issue 6 §1 "replay in order per
 * device after reconnect"). After an outage the outbox may hold 100,000
 * alerts; sent in one burst, a station broker with a bounded per-client queue
 * (mosquitto's default max_queued_messages is 1000) silently drops most of
 * them on the way to the consoles, and drops the acks coming back: they then
 * arrive only by the 30 s ack-timeout resend, out of order (measured:
 * bench/drain.ts, 38 s instead of 0.4 s for 10,000).
 *
 * So at most `size` alerts are out unacknowledged at a time; an ack frees a
 * slot. A station that acks slowly or not at all cannot stall delivery: a slot
 * is also freed `releaseMs` after its send (the alert stays in the outbox and
 * the ack watcher resends it as before), so the floor is size per releaseMs.
 *
 * Order per device is kept: an alert waits behind its own device's earlier
 * alerts. A new alarm from a device with nothing waiting goes out at once,
 * even past a full window: it never waits behind other devices' backlog.
 */
import type { Clock, TimerHandle } from '../../devices/time/clock.js'
import type { OutboxEntry } from '../outbox/outbox.js'

export class SendWindow {
  private waiting: OutboxEntry[] = []
  private head = 0
  private readonly waitingPerDevice = new Map<string, number>()
  private readonly waitingIds = new Set<string>()
  /** id -> send time; a Map iterates in insertion order, i.e. oldest send first. */
  private readonly inflight = new Map<string, number>()
  private timer: TimerHandle | null = null

  constructor(
    private readonly size: number,
    private readonly releaseMs: number,
    private readonly clock: Clock,
    private readonly send: (e: OutboxEntry) => void,
  ) {}

  /** Alerts waiting for a slot. */
  get backlog(): number {
    return this.waiting.length - this.head
  }

  get inFlight(): number {
    return this.inflight.size
  }

  /** True while `id` waits for a slot: it has not been sent on this connection yet. */
  holds(id: string): boolean {
    return this.waitingIds.has(id)
  }

  /** Hand alerts over in outbox order. `urgent`: fresh alerts, which may pass a full window (see above). */
  offer(batch: readonly OutboxEntry[], urgent: boolean): void {
    for (const e of batch) {
      // Already out or waiting on this connection: a replay at connect can include an alert whose
      // commit is reported just after (issue 16 §1, a path taking over); sending it twice helps nobody.
      if (this.inflight.has(e.id) || this.waitingIds.has(e.id)) continue
      if (urgent && !this.waitingPerDevice.get(e.device)) this.transmit(e)
      else {
        this.waiting.push(e)
        this.waitingIds.add(e.id)
        this.waitingPerDevice.set(e.device, (this.waitingPerDevice.get(e.device) ?? 0) + 1)
      }
    }
    this.pump()
  }

  /** The station acknowledged `id`: its slot is free. */
  acked(id: string): void {
    if (this.inflight.delete(id)) this.pump()
  }

  /** The connection is gone: everything is replayed from the outbox on the next connect. */
  reset(): void {
    this.waiting = []
    this.head = 0
    this.waitingPerDevice.clear()
    this.waitingIds.clear()
    this.inflight.clear()
    if (this.timer) this.clock.clearTimeout(this.timer)
    this.timer = null
  }

  private pump(): void {
    this.expire()
    while (this.head < this.waiting.length && this.inflight.size < this.size) {
      const e = this.waiting[this.head++]
      this.waitingIds.delete(e.id)
      const left = (this.waitingPerDevice.get(e.device) ?? 1) - 1
      if (left) this.waitingPerDevice.set(e.device, left)
      else this.waitingPerDevice.delete(e.device)
      this.transmit(e)
    }
    if (this.head === this.waiting.length) {
      this.waiting = []
      this.head = 0
    } else if (this.head > 4096 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head) // compact now and then, not per send
      this.head = 0
    }
    if (this.backlog && !this.timer) this.armRelease()
  }

  private transmit(e: OutboxEntry): void {
    this.inflight.delete(e.id) // a resend moves to the back
    this.inflight.set(e.id, this.clock.now())
    this.send(e)
  }

  /** Free the slots of alerts sent more than releaseMs ago (a slow or silent station). */
  private expire(): void {
    const cutoff = this.clock.now() - this.releaseMs
    for (const [id, at] of this.inflight) {
      if (at > cutoff) break
      this.inflight.delete(id)
    }
  }

  private armRelease(): void {
    const oldest = this.inflight.values().next()
    const wait = oldest.done ? 0 : Math.max(0, oldest.value + this.releaseMs - this.clock.now())
    this.timer = this.clock.setTimeout(() => {
      this.timer = null
      this.pump()
    }, wait + 1)
  }
}
