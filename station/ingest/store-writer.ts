/**
 * Ingest's writes to the store, in arrival order, surviving a database
 * outage (issue 15: database unreachable -> loud health flag, the live queue
 * keeps alerts in memory, nothing is acknowledged; when the database returns,
 * the held rows are written).
 *
 * While the database is down, latest-value rows (status, state, device state,
 * test reports) are coalesced per key, so only alerts and rejected rows make
 * the queue grow; past `maxHeld` the oldest latest-value row goes first, then
 * (counted, logged) the oldest held alert: the gateway still holds every
 * alert in its outbox until an operator acknowledges it, so a dropped held
 * row comes back on the gateway's next resend.
 */
import type { Logger } from 'pino'
import type { RejectedRow } from '../station-api.js'
import type { StationDb, AlertInsertResult } from '../store/station-db.js'
import type { LiveFeed } from '../live/live-feed.js'
import type { IngestOp } from './message-check.js'
import type { Counters } from './counters.js'
import { RecentIds } from './recent-ids.js'

export type WriteItem = IngestOp | { op: 'rejected'; row: Omit<RejectedRow, 'id'> }

interface Pending {
  item: WriteItem
  key: string | null
  shownLive: boolean
  done?: (r: AlertInsertResult) => void
}

export interface StoreWriterOptions {
  maxHeld?: number
  retryMs?: number
  log: Logger
  now?: () => number
}

/** Rows written in one statement at most (18 parameters each at most: far inside both engines' limits). */
const BATCH = 200

function keyOf(i: WriteItem): string | null {
  switch (i.op) {
    case 'status': case 'state': case 'test-report': case 'walk-test-report': return `${i.op}|${i.site}|${i.post}`
    case 'device': return `device|${i.site}|${i.post}|${i.device}`
    default: return null
  }
}

export class StoreWriter {
  private readonly queue: Pending[] = []
  private readonly latest = new Map<string, Pending>()
  private running = false
  /** Items being written now: never changed in place by coalescing. */
  private readonly inflight = new Set<Pending>()
  private ok = true
  private lastError: string | null = null
  private retryTimer: NodeJS.Timeout | null = null
  private stopped = false
  private readonly maxHeld: number
  private readonly retryMs: number
  /** Alert ids taken in by this instance (recent-ids.ts). */
  private readonly seen = new RecentIds()
  /**
   * Called after an alert was written (or found a duplicate/conflict); seenBefore: this instance
   * had taken the id in already (a redelivery), else a duplicate is another instance's store.
   */
  onAlert: ((op: Extract<IngestOp, { op: 'alert' }>, r: AlertInsertResult, seenBefore: boolean) => void) | null = null
  onPost: ((site: string, post: string) => void) | null = null

  constructor(private readonly db: StationDb, private readonly live: LiveFeed, private readonly counters: Counters, private readonly o: StoreWriterOptions) {
    this.maxHeld = o.maxHeld ?? 100_000
    this.retryMs = o.retryMs ?? 1000
  }

  get dbOk(): boolean { return this.ok }
  get dbError(): string | null { return this.lastError }
  get held(): number { return this.queue.length }

  submit(item: WriteItem): void {
    const key = keyOf(item)
    const prev = key ? this.latest.get(key) : undefined
    if (prev && !this.inflight.has(prev)) {
      prev.item = item // latest value wins; that queued write has not started
      this.counters.inc('coalesced')
      return
    }
    const p: Pending = { item, key, shownLive: false }
    if (key) this.latest.set(key, p)
    if (!this.ok && item.op === 'alert' && !this.seen.has(item.alert.id)) {
      // Shown at once from memory: the console must not wait for the database to see an alarm.
      this.live.publish({ type: 'alert', alert: { ...item.alert, ackBy: null, ackAt: null, ackNote: null } })
      p.shownLive = true
    }
    this.queue.push(p)
    if (this.queue.length > this.maxHeld) this.shed()
    this.counters.set('held', this.queue.length)
    if (this.ok) void this.drain()
  }

  private shed(): void {
    let i = this.queue.findIndex((p) => p.key !== null)
    if (i < 0) i = 0
    const [gone] = this.queue.splice(i, 1)
    if (gone.key && this.latest.get(gone.key) === gone) this.latest.delete(gone.key)
    this.counters.inc(gone.item.op === 'alert' ? 'held_alerts_dropped' : 'held_rows_dropped')
    if (gone.item.op === 'alert') this.o.log.error({ id: gone.item.alert.id }, 'held alert dropped: memory bound reached while the database is down')
  }

  private async drain(): Promise<void> {
    if (this.running || this.stopped) return
    this.running = true
    try {
      while (this.queue.length && this.ok && !this.stopped) {
        // A run of alerts (a burst) or of device states goes in one multi-row statement; the rest one by one, in order.
        const op = this.queue[0].item.op
        let n = 1
        if (op === 'alert' || op === 'device') while (n < this.queue.length && n < BATCH && this.queue[n].item.op === op) n++
        const batch = this.queue.slice(0, n)
        for (const p of batch) this.inflight.add(p)
        try {
          if (n > 1 && op === 'alert') await this.applyAlerts(batch)
          else if (n > 1) await this.applyDevices(batch)
          else await this.apply(batch[0])
        } catch (e) {
          this.down(e as Error)
          break
        } finally {
          this.inflight.clear()
        }
        this.queue.splice(0, batch.length)
        for (const p of batch) if (p.key && this.latest.get(p.key) === p) this.latest.delete(p.key)
      }
    } finally {
      this.running = false
      this.counters.set('held', this.queue.length)
    }
  }

  private async applyAlerts(batch: Pending[]): Promise<void> {
    const ops = batch.map((p) => p.item as Extract<IngestOp, { op: 'alert' }>)
    const results = await this.db.insertAlerts(ops.map((o) => o.alert))
    batch.forEach((p, i) => this.alertDone(p, ops[i], results[i]))
  }

  private async applyDevices(batch: Pending[]): Promise<void> {
    const ops = batch.map((p) => p.item as Extract<IngestOp, { op: 'device' }>)
    await this.db.setDeviceStates(ops, (this.o.now ?? Date.now)())
    const posts = new Set<string>()
    for (const o of ops) {
      const k = `${o.site}/${o.post}`
      if (posts.has(k)) continue
      posts.add(k)
      this.onPost?.(o.site, o.post)
      this.live.publish({ type: 'post', site: o.site, post: o.post })
    }
  }

  private alertDone(p: Pending, op: Extract<IngestOp, { op: 'alert' }>, r: AlertInsertResult): void {
    if (r !== 'conflict') this.counters.inc(r === 'stored' ? 'alerts_stored' : 'alerts_duplicate') // a conflict is counted where it is rejected
    const seenBefore = r === 'conflict' ? true : this.seen.add(op.alert.id) && !p.shownLive
    if (r === 'stored' && !p.shownLive) this.live.publish({ type: 'alert', alert: { ...op.alert, ackBy: null, ackAt: null, ackNote: null } })
    this.onAlert?.(op, r, seenBefore)
  }

  /**
   * Another instance stored this alert first (issue 16 §3): show the stored row (with its ack,
   * if an operator was quicker) on this instance's consoles too. Resolves with the row.
   */
  async showStored(id: string): Promise<{ ackAt: number | null } | null> {
    try {
      const row = await this.db.alert(id)
      if (row) this.live.publish({ type: 'alert', alert: row })
      return row
    } catch (e) {
      this.reportFailure(e as Error)
      return null
    }
  }

  private async apply(p: Pending): Promise<void> {
    const i = p.item
    const at = (this.o.now ?? Date.now)()
    switch (i.op) {
      case 'alert': {
        this.alertDone(p, i, await this.db.insertAlert(i.alert))
        return
      }
      case 'rejected': {
        const row = await this.db.addRejected(i.row)
        this.live.publish({ type: 'rejected', row })
        return
      }
      case 'status': await this.db.setStatus(i.site, i.post, i.online, i.since, at); break
      case 'state': await this.db.setGatewayState(i.site, i.post, i.state, at); break
      case 'device': await this.db.setDeviceState(i.site, i.post, i.device, i.state, at); break
      case 'test-report': await this.db.setTestReport(i.site, i.post, i.intervalS, i.outboxDepth, at); break
      case 'walk-test-report': await this.db.setWalkTestReport(i.site, i.post, i.report, at); break
    }
    this.onPost?.(i.site, i.post)
    this.live.publish({ type: 'post', site: i.site, post: i.post })
  }

  private down(e: Error): void {
    this.counters.inc('db_errors')
    if (this.ok) {
      this.ok = false
      this.lastError = e.message || String(e)
      this.o.log.error({ err: this.lastError }, 'station database unreachable: holding rows in memory')
      this.live.publish({ type: 'db', ok: false, error: this.lastError })
      for (const p of this.queue) {
        if (p.item.op === 'alert' && !p.shownLive) {
          this.live.publish({ type: 'alert', alert: { ...p.item.alert, ackBy: null, ackAt: null, ackNote: null } })
          p.shownLive = true
        }
      }
    }
    this.scheduleRetry()
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      void this.db.ping().then(() => {
        this.ok = true
        this.lastError = null
        this.o.log.warn({ held: this.queue.length }, 'station database reachable again: writing held rows')
        this.live.publish({ type: 'db', ok: true, error: null })
        void this.drain()
      }, () => this.scheduleRetry())
    }, this.retryMs)
  }

  /** Report a failure seen elsewhere (an action's write): the same loud flag, the same retry. */
  reportFailure(e: Error): void {
    this.down(e)
  }

  /** Resolves when everything queued so far is written (tests, clean shutdown); false on timeout. */
  async flush(timeoutMs = 5000): Promise<boolean> {
    const end = Date.now() + timeoutMs
    while ((this.queue.length || this.running) && Date.now() < end) await new Promise((r) => setTimeout(r, 5))
    return this.queue.length === 0
  }

  stop(): void {
    this.stopped = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
  }
}
