/**
 * Station ingest (issue 15): every message from the station broker is parsed,
 * schema-checked and matched against its topic (message-check.ts), then
 * written in order through the StoreWriter. Bad input is stored nowhere as
 * truth: it becomes a row in the rejected table, is counted and shown live;
 * it never throws.
 *
 * Unknown posts: a post is known once it sent a valid retained status or
 * state (or is in the store from before). An alert from a post not known is
 * held `unknownPostGraceMs` (the retained status can arrive a moment after a
 * queued alert when the service (re)subscribes); still unknown after that, it
 * is rejected (rejected table, counter `rejected_unknown_post`). It is not
 * lost: nobody acknowledges it, so the gateway keeps it in its outbox and
 * resends it, and it is accepted once the post's status has arrived.
 */
import { PathStatus } from './path-status.js'
import type { Logger } from 'pino'
import type { StationDb } from '../store/station-db.js'
import type { LiveFeed } from '../live/live-feed.js'
import type { Counters } from './counters.js'
import { StoreWriter } from './store-writer.js'
import { checkMessage, excerpt, type IngestOp } from './message-check.js'
import { parseStationTopic } from './topic-parse.js'

export interface IngestOptions {
  unknownPostGraceMs?: number
  maxHeld?: number
  retryMs?: number
  log: Logger
  now?: () => number
}

type AlertOp = Extract<IngestOp, { op: 'alert' }>

/** A duplicate whose ack is older than this, first seen by this instance, is a gateway's redelivery (see onAlert). */
const REDELIVERY_ACK_AGE_MS = 5000

export class StationIngest {
  readonly writer: StoreWriter
  private readonly known = new Set<string>()
  private readonly waiting = new Map<string, { op: AlertOp; topic: string; payload: Buffer; timer: NodeJS.Timeout }>()
  private readonly now: () => number
  private readonly paths = new PathStatus()
  /** Listeners for stored alerts (roll call check-ins) and for redeliveries of alerts already acknowledged. */
  onStoredAlert: ((a: AlertOp['alert']) => void) | null = null
  onAckedDuplicate: ((id: string) => void) | null = null

  constructor(private readonly db: StationDb, live: LiveFeed, private readonly counters: Counters, private readonly o: IngestOptions) {
    this.now = o.now ?? Date.now
    this.writer = new StoreWriter(db, live, counters, { log: o.log, maxHeld: o.maxHeld, retryMs: o.retryMs, now: this.now })
    this.writer.onAlert = (op, r, seenBefore) => {
      if (r === 'stored') this.onStoredAlert?.(op.alert)
      else if (r === 'duplicate' && seenBefore) this.onAckedDuplicate?.(op.alert.id) // a redelivery: the gateway missed the ack
      else if (r === 'duplicate') void this.writer.showStored(op.alert.id).then((row) => {
        // First seen here but stored by another instance. An ack older than this is not that
        // instance's fresh one (it sent that itself): a redelivery after our restart, so answer it.
        if (row && row.ackAt !== null && this.now() - row.ackAt > REDELIVERY_ACK_AGE_MS) this.onAckedDuplicate?.(op.alert.id)
      })
      else this.reject(`safehouse/v1/${op.site}/${op.post}/alert/${op.alert.device}`, 'rejected_id_conflict', `alert id ${op.alert.id} reused with different content`, Buffer.from(op.alert.payload))
    }
  }

  /** Loads the known posts; a database that is down now only means posts are learnt afresh. */
  async start(): Promise<void> {
    try {
      for (const p of await this.db.knownPosts()) this.known.add(`${p.site}/${p.post}`)
    } catch (e) {
      this.writer.reportFailure(e as Error)
    }
  }

  isKnown(site: string, post: string): boolean {
    return this.known.has(`${site}/${post}`)
  }

  /** One message from the broker. Never throws. */
  handle(topic: string, payload: Buffer): void {
    this.counters.inc('messages')
    try {
      const t = parseStationTopic(topic)
      if (!t) return this.reject(topic, 'rejected_topic', 'not a topic the station reads', payload)
      const r = checkMessage(t, payload, this.now())
      if (!r.ok) return this.reject(topic, r.counter, r.reason, payload)
      const op = r.op
      if (op.op === 'path-status') {
        if (this.paths.update(op.site, op.post, op.path, op.online)) this.writer.submit({ op: 'status', site: op.site, post: op.post, online: false, since: null })
        return
      }
      if (op.op === 'status' || op.op === 'state') this.learn(op.site, op.post)
      if (op.op === 'alert' && !this.isKnown(op.site, op.post)) return this.hold(op, topic, payload)
      this.writer.submit(op)
    } catch (e) {
      this.counters.inc('ingest_errors')
      this.o.log.error({ err: (e as Error).message, topic }, 'ingest failed on a message')
    }
  }

  private learn(site: string, post: string): void {
    const k = `${site}/${post}`
    if (this.known.has(k)) return
    this.known.add(k)
    for (const [id, w] of this.waiting) {
      if (w.op.site === site && w.op.post === post) {
        clearTimeout(w.timer)
        this.waiting.delete(id)
        this.writer.submit(w.op)
      }
    }
  }

  private hold(op: AlertOp, topic: string, payload: Buffer): void {
    if (this.waiting.has(op.alert.id)) return
    const grace = this.o.unknownPostGraceMs ?? 3000
    if (this.waiting.size >= 10_000 || grace <= 0) return this.reject(topic, 'rejected_unknown_post', `post ${op.site}/${op.post} is unknown (no valid status or state yet)`, payload)
    const timer = setTimeout(() => {
      this.waiting.delete(op.alert.id)
      this.reject(topic, 'rejected_unknown_post', `post ${op.site}/${op.post} is unknown (no valid status or state within ${grace} ms)`, payload)
    }, grace)
    this.waiting.set(op.alert.id, { op, topic, payload, timer })
  }

  private reject(topic: string, counter: string, reason: string, payload: Buffer): void {
    this.counters.inc(counter)
    this.counters.inc('rejected')
    this.writer.submit({ op: 'rejected', row: { at: this.now(), topic: topic.slice(0, 300), reason, excerpt: excerpt(payload) } })
  }

  stop(): void {
    for (const w of this.waiting.values()) clearTimeout(w.timer)
    this.waiting.clear()
    this.writer.stop()
  }
}
