/**
 * Durable outbox: a crash-safe append-only log (issue 6 §1; the why is in
 * docs/decisions.md, the operator's view in docs/operations.md "The outbox").
 *
 * - Group commit: append() encodes into a preallocated buffer; the next tick
 *   (or `groupCommitMs` later) one write + one fdatasync makes the whole batch
 *   durable, then the committed listener sees it, in append order. Appends
 *   arriving during the I/O form the next batch.
 * - Acks append a tombstone without an fdatasync of their own: they ride on
 *   the next alert commit (or close). Losing one repeats an alert with the
 *   same id, which the station contract allows; an ack never delays an alert.
 * - Segments roll at `segmentBytes`; wholly acknowledged old segments are
 *   deleted; when live data is at most half the log it is rewritten into a
 *   fresh segment (outbox-segments.ts). Recovery: outbox-recovery.ts.
 * - Disk trouble or a full outbox never stops an alert: it goes to the
 *   listener anyway (local fan-out and uplink), counted in `writeErrors`.
 */
import type { Logger } from 'pino'
import type { CommittedListener, NewOutboxEntry, Outbox, OutboxEntry, OutboxStats } from './outbox.js'
import { type OutboxFs, OutboxOpenError, describeFsError, nodeOutboxFs } from './outbox-fs.js'
import { ackRecordBytes, encodeAck, encodeAlert } from './outbox-log-format.js'
import { OutboxProblems } from './outbox-problems.js'
import { recoverDir } from './outbox-recovery.js'
import { SegmentLog } from './outbox-segment-log.js'
import { StoredEntry } from './outbox-segments.js'

export interface FileOutboxOptions {
  /** Directory of the log (created 0700; files 0600): `<data_dir>/outbox`. */
  dir: string
  log: Logger
  /** Most alerts kept on disk (`outbox.max_alerts`). Default 100,000. */
  maxAlerts?: number
  /** Most bytes of live alert records on disk (`outbox.max_bytes`). Default 64 MiB. */
  maxBytes?: number
  /** Roll to a new segment past this size (`outbox.segment_bytes`). Default 4 MiB. */
  segmentBytes?: number
  /** 0 (default): commit on the next tick; > 0: gather appends this many ms first. */
  groupCommitMs?: number
  /** File-system seam (tests inject ENOSPC/EROFS here). */
  fs?: OutboxFs
}

export interface FileOutboxStats extends OutboxStats {
  /** Alerts not stored because max_alerts/max_bytes was reached (also in writeErrors). */
  full: number
  /** fsync/fdatasync calls of any kind (commits, segment creation, compaction, close). */
  syncs: number
  ioErrors: number
  compactions: number
  segments: number
  /** Bytes of all segment files. */
  bytes: number
  /** Bytes of stored, unacknowledged alert records. */
  liveBytes: number
}

interface Batch { buf: Buffer; len: number; alerts: number; entries: StoredEntry[] }

const newBatch = (): Batch => ({ buf: Buffer.allocUnsafe(64 * 1024), len: 0, alerts: 0, entries: [] })

export class FileOutbox implements Outbox {
  private readonly dir: string
  private readonly log: Logger
  private readonly fs: OutboxFs
  private readonly maxAlerts: number
  private readonly maxBytes: number
  private readonly groupCommitMs: number
  private readonly problems: OutboxProblems
  private readonly files: SegmentLog
  private map = new Map<string, StoredEntry>()
  private fill = newBatch()
  private spare = newBatch()
  private listener: CommittedListener = () => {}
  private scheduled: NodeJS.Immediate | NodeJS.Timeout | null = null
  private running = false
  private flushing: Promise<void> = Promise.resolve()
  private stored = 0
  private liveBytes = 0
  private readonly c = { appended: 0, acked: 0, unknownAcks: 0, commits: 0, writeErrors: 0, full: 0 }

  constructor(opts: FileOutboxOptions) {
    this.dir = opts.dir
    this.log = opts.log
    this.fs = opts.fs ?? nodeOutboxFs
    this.maxAlerts = opts.maxAlerts ?? 100_000
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024
    this.groupCommitMs = opts.groupCommitMs ?? 0
    this.problems = new OutboxProblems(opts.log)
    this.files = new SegmentLog(this.fs, this.dir, opts.segmentBytes ?? 4 * 1024 * 1024, this.problems)
  }

  async open(): Promise<{ recovered: number; damaged: string | null }> {
    const step = async <T>(action: string, path: string, fn: () => Promise<T>): Promise<T> => {
      try { return await fn() } catch (e) {
        const d = describeFsError(e, action, path)
        throw new OutboxOpenError(d.problem, d.code, d.message, path)
      }
    }
    await step('creating directory', this.dir, () => this.fs.ensureDir(this.dir))
    const rec = await step('recovering', this.dir, () => recoverDir(this.fs, this.dir))
    this.map = rec.entries
    for (const e of this.map.values()) { this.stored++; this.liveBytes += e.recordBytes }
    await step('opening the log in', this.dir, () => this.files.open(rec.segments))
    if (rec.needsCompaction) {
      // Damage left inside a file is rewritten away now, not found again at every start.
      await this.files.compact(this.map.values()).catch((e: unknown) => this.problems.io(e, 'compacting', this.dir))
    }
    const damaged = rec.damage.length > 0 ? rec.damage.join('; ') : null
    if (damaged !== null) this.log.warn({ dir: this.dir, damaged }, 'outbox log was damaged; recovered up to the last whole record')
    if (rec.removedTemps.length > 0) this.log.info({ files: rec.removedTemps }, 'removed files of an interrupted compaction')
    this.log.info({ dir: this.dir, recovered: this.map.size, segments: this.files.segments.length, bytes: this.files.totalBytes }, 'outbox opened')
    return { recovered: this.map.size, damaged }
  }

  append(entry: NewOutboxEntry): void {
    const e = new StoredEntry(entry.id, entry.device, entry.topic, entry.payload, entry.acceptedAt)
    const old = this.map.get(e.id)
    // A repeated id (replayed after a crash) replaces in place, never duplicates.
    if (old !== undefined) this.forget(old)
    this.map.set(e.id, e)
    this.c.appended++
    const b = this.fill
    if (e.recordBytes < 0) {
      this.c.writeErrors++
      this.log.error({ id: e.id, payloadBytes: e.payload.length }, 'alert too large to store in the outbox; sent but not durable')
    } else if (this.stored >= this.maxAlerts || this.liveBytes + e.recordBytes > this.maxBytes) {
      this.c.full++
      this.c.writeErrors++
      this.problems.full(true, this.stored, this.liveBytes)
    } else {
      this.problems.full(false, this.stored, this.liveBytes)
      this.reserve(b, e.recordBytes)
      b.len += encodeAlert(b.buf, b.len, e.id, e.device, e.topic, e.acceptedAt, e.payload)
      b.alerts++
      e.stored = true
      this.stored++
      this.liveBytes += e.recordBytes
    }
    b.entries.push(e)
    this.schedule()
  }

  onCommitted(listener: CommittedListener): void {
    this.listener = listener
  }

  lastSentAt(id: string): number {
    return this.map.get(id)?.lastSentAt ?? Number.NaN
  }

  ack(id: string): boolean {
    const e = this.map.get(id)
    if (e === undefined) {
      this.c.unknownAcks++
      return false
    }
    this.map.delete(id)
    this.c.acked++
    if (e.stored) {
      const b = this.fill
      this.reserve(b, ackRecordBytes(id))
      b.len += encodeAck(b.buf, b.len, id)
      this.schedule()
    }
    this.forget(e)
    return true
  }

  pending(): readonly OutboxEntry[] {
    return this.oldest(Infinity)
  }

  oldest(limit: number): readonly OutboxEntry[] {
    const out: OutboxEntry[] = []
    for (const e of this.map.values()) {
      if (out.length >= limit) break
      if (e.committed) out.push(e)
    }
    return out
  }

  stats(): FileOutboxStats {
    const f = this.files
    return {
      ...this.c, depth: this.map.size, syncs: f.syncs, compactions: f.compactions, ioErrors: this.problems.ioErrors,
      segments: f.segments.length, bytes: f.totalBytes, liveBytes: this.liveBytes,
    }
  }

  /** The storage problem in force (disk full, read-only, outbox full), or null. */
  problem(): string | null {
    return this.problems.message
  }

  async close(): Promise<void> {
    await this.drain()
    await this.files.close()
  }

  /** Commit everything appended so far (tests, shutdown). */
  async drain(): Promise<void> {
    for (;;) {
      if (this.running) await this.flushing
      else if (this.fill.len > 0 || this.fill.entries.length > 0) this.kick()
      else return
    }
  }

  /** Drop an entry's share of the accounting (acked or replaced). */
  private forget(e: StoredEntry): void {
    if (e.stored) { this.stored--; this.liveBytes -= e.recordBytes }
    if (e.durable) { const s = this.files.segment(e.segment); if (s) s.live-- }
    e.stored = false
    e.durable = false
  }

  private reserve(b: Batch, extra: number): void {
    if (b.len + extra <= b.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(b.buf.length * 2, b.len + extra))
    b.buf.copy(next, 0, 0, b.len)
    b.buf = next
  }

  private schedule(): void {
    if (this.running || this.scheduled !== null) return
    this.scheduled = this.groupCommitMs > 0 ? setTimeout(this.kickBound, this.groupCommitMs) : setImmediate(this.kickBound)
  }

  private readonly kickBound = (): void => { this.scheduled = null; this.kick() }

  private kick(): void {
    if (this.scheduled !== null) {
      clearTimeout(this.scheduled as NodeJS.Timeout)
      clearImmediate(this.scheduled as NodeJS.Immediate)
      this.scheduled = null
    }
    if (this.running) return
    this.running = true
    this.flushing = this.flushLoop()
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.fill.len > 0 || this.fill.entries.length > 0) {
        const b = this.fill
        this.fill = this.spare
        this.spare = b
        await this.commit(b)
        b.len = 0
        b.alerts = 0
        b.entries = []
      }
    } finally {
      this.running = false
    }
  }

  private async commit(b: Batch): Promise<void> {
    if (b.len > 0) {
      try {
        // Ack-only batches skip the fdatasync: they ride on the next alert commit or close().
        const seg = await this.files.append(b.buf, b.len, b.alerts > 0, this.liveBytes, this.map.values())
        if (b.alerts > 0) this.c.commits++
        for (const e of b.entries) {
          if (!e.stored) continue
          e.durable = true
          e.segment = seg.no
          seg.live++
        }
        this.problems.ok()
      } catch (err) {
        this.problems.io(err, 'writing', this.files.activePath())
        for (const e of b.entries) {
          if (!e.stored) continue
          this.c.writeErrors++
          this.forget(e)
        }
      }
    }
    if (b.entries.length === 0) return
    for (const e of b.entries) e.committed = true
    try { this.listener(b.entries) } catch (err) {
      this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'outbox committed listener threw')
    }
  }
}
