/**
 * Every console shows every alert and every ack, even when this instance's broker session never
 * brought them (issue 16 §3). With several instances on one PostgreSQL each learns of the others'
 * alerts and acks from the broker (every instance subscribes to everything, acks are echoed on
 * `…/ack`); the city test on a RabbitMQ cluster saw desk B's live feed miss alerts that instance A
 * had stored while a node and A were killed, and they showed only when the console reloaded.
 *
 * The database is the truth: every `intervalMs` this instance reads the recent unacknowledged
 * alerts and the recent acks, and puts on its live feed what it has not shown: an alert not yet on
 * the feed, an ack of an alert the feed showed as open. What was shown is learnt from the live
 * feed itself, whoever published it (ingest, another instance's store, an operator's action).
 * A console upserts alerts by id and applies an ack once, so a late broker copy is harmless.
 */
import type { AlertRow, LiveEvent } from '../station-api.js'
import { RecentIds } from './recent-ids.js'

export interface CatchUpStore {
  alerts(q: { unackedOnly: boolean; from: number; limit: number }): Promise<AlertRow[]>
  /** Alerts acknowledged at or after `from`, newest ack first. */
  acknowledgedSince(from: number, limit: number): Promise<AlertRow[]>
}

export interface CatchUpLive {
  publish(e: LiveEvent): number
  subscribe(fn: (seq: number, e: LiveEvent) => void): () => void
}

export interface StoreCatchUpOptions {
  /** How often the store is read (default 5 s: well inside a supervisor's 2-minute alarm rule). */
  intervalMs?: number
  /** How far back each read looks (default 15 min; older alerts are in the queue a console loads). */
  windowMs?: number
  /** At most this many rows per read, newest first. */
  limit?: number
}

export class StoreCatchUp {
  /** Alerts on this instance's live feed, and those of them shown acknowledged. */
  private readonly shown = new RecentIds()
  private readonly acked = new RecentIds()
  private readonly off: () => void
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null

  constructor(
    private readonly store: CatchUpStore,
    private readonly live: CatchUpLive,
    private readonly count: (name: string) => void,
    private readonly now: () => number,
    private readonly o: StoreCatchUpOptions = {},
  ) {
    this.off = live.subscribe((_seq, e) => {
      if (e.type === 'alert') {
        this.shown.add(e.alert.id)
        if (e.alert.ackAt !== null) this.acked.add(e.alert.id)
      } else if (e.type === 'ack') this.acked.add(e.id)
    })
  }

  start(): void {
    this.timer = setInterval(() => { void this.tick() }, this.o.intervalMs ?? 5000)
    this.timer.unref()
  }

  /** One read of the store (also called by tests); a read still running is not started twice. */
  tick(): Promise<void> {
    this.running ??= this.read().finally(() => { this.running = null })
    return this.running
  }

  private async read(): Promise<void> {
    const from = this.now() - (this.o.windowMs ?? 15 * 60_000)
    const limit = this.o.limit ?? 1000
    let open: AlertRow[]
    let acks: AlertRow[]
    try {
      ;[open, acks] = await Promise.all([this.store.alerts({ unackedOnly: true, from, limit }), this.store.acknowledgedSince(from, limit)])
    } catch {
      return // the store writer reports a dead database (banner, metrics); the next read tries again
    }
    for (let i = open.length - 1; i >= 0; i--) { // oldest first, as they arrived
      if (this.shown.has(open[i].id)) continue
      this.count('alerts_caught_up')
      this.live.publish({ type: 'alert', alert: open[i] })
    }
    for (let i = acks.length - 1; i >= 0; i--) {
      const a = acks[i]
      // Only an alert a console was shown open needs its ack; the others come with theirs on a reload.
      if (!this.shown.has(a.id) || this.acked.has(a.id) || a.ackBy === null || a.ackAt === null) continue
      this.count('acks_caught_up')
      this.live.publish({ type: 'ack', id: a.id, by: a.ackBy, at: a.ackAt, note: a.ackNote })
    }
  }

  async stop(): Promise<void> {
    this.off()
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.running
  }
}
