/**
 * Every console shows every alert, even one this instance's broker session never brought
 * (issue 16 §3). With several instances on one PostgreSQL each learns of the others' alerts from
 * the broker (every instance subscribes to everything); the city test on a RabbitMQ cluster saw
 * desk B's live feed miss alerts that instance A had stored while a node and A were killed, and
 * they showed only when the console reloaded its queue. The database is the truth: every
 * `intervalMs` this instance reads the recent unacknowledged alerts and puts on its live feed any
 * it has neither taken in from its broker nor shown already. A console upserts alerts by id, so
 * a late broker copy shown again is harmless.
 */
import type { AlertRow, LiveEvent } from '../station-api.js'
import type { RecentIds } from './recent-ids.js'
import { RecentIds as ShownIds } from './recent-ids.js'

export interface CatchUpStore {
  alerts(q: { unackedOnly: boolean; from: number; limit: number }): Promise<AlertRow[]>
}

export interface StoreCatchUpOptions {
  /** How often the store is read (default 5 s: well inside a supervisor's 2-minute alarm rule). */
  intervalMs?: number
  /** How far back each read looks (default 15 min; older alerts are in the queue a console loads). */
  windowMs?: number
  /** At most this many alerts per read, newest first. */
  limit?: number
}

export class StoreCatchUp {
  private readonly shown = new ShownIds()
  private timer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null

  constructor(
    private readonly store: CatchUpStore,
    /** Ids this instance took in from its broker: those it has shown already, or will. */
    private readonly takenIn: RecentIds,
    private readonly live: { publish(e: LiveEvent): number },
    private readonly count: (name: string) => void,
    private readonly now: () => number,
    private readonly o: StoreCatchUpOptions = {},
  ) {}

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
    let rows: AlertRow[]
    try {
      rows = await this.store.alerts({ unackedOnly: true, from: this.now() - (this.o.windowMs ?? 15 * 60_000), limit: this.o.limit ?? 1000 })
    } catch {
      return // the store writer reports a dead database (banner, metrics); the next read tries again
    }
    for (let i = rows.length - 1; i >= 0; i--) { // oldest first, as they arrived
      const a = rows[i]
      if (this.takenIn.has(a.id) || this.shown.add(a.id)) continue
      this.count('alerts_caught_up')
      this.live.publish({ type: 'alert', alert: a })
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.running
  }
}
