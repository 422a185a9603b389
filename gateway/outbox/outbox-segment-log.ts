/**
 * The set of segment files and the open active one: positional appends,
 * rolling to a new segment, deleting wholly acknowledged old segments and
 * compaction. FileOutbox owns the entries and the accounting; this owns
 * the files. Every method that touches the disk may throw a file-system error;
 * the caller decides what it means for the alerts in hand.
 */
import { join } from 'node:path'
import type { OutboxFile, OutboxFs } from './outbox-fs.js'
import type { OutboxProblems } from './outbox-problems.js'
import { SEGMENT_MAGIC } from './outbox-log-format.js'
import {
  type SegmentInfo, type StoredEntry, createSegment, segmentName, writeAll, writeCompactedSegment,
} from './outbox-segments.js'

export class SegmentLog {
  segments: SegmentInfo[] = []
  file: OutboxFile | null = null
  totalBytes = 0
  syncs = 0
  compactions = 0
  /** Do not retry a failed roll/compaction before the active segment reaches this size. */
  private maintainAfter = 0

  constructor(
    private readonly fs: OutboxFs,
    private readonly dir: string,
    private readonly segmentBytes: number,
    private readonly problems: OutboxProblems,
  ) {}

  /** Adopt recovered segments and open the newest for appending (or create segment 1). */
  async open(segments: SegmentInfo[]): Promise<void> {
    this.segments = segments
    this.totalBytes = 0
    for (const s of segments) this.totalBytes += s.size
    if (segments.length === 0) {
      this.file = await createSegment(this.fs, this.dir, 1)
      this.syncs += 2
      this.segments.push({ no: 1, size: SEGMENT_MAGIC.length, live: 0 })
      this.totalBytes = SEGMENT_MAGIC.length
    } else {
      this.file = await this.fs.open(this.activePath(), 'append')
    }
  }

  active(): SegmentInfo {
    return this.segments[this.segments.length - 1]
  }

  activePath(): string {
    const a = this.active()
    return join(this.dir, segmentName(a === undefined ? 1 : a.no))
  }

  segment(no: number): SegmentInfo | undefined {
    for (const s of this.segments) if (s.no === no) return s
    return undefined
  }

  /** Write buf[0, len) at the end of the active segment (fdatasync when `sync`). Returns that segment. */
  async append(buf: Buffer, len: number, sync: boolean, liveBytes: number, entries: Iterable<StoredEntry>): Promise<SegmentInfo> {
    if (this.file === null) throw Object.assign(new Error('outbox is not open'), { code: 'ECLOSED' })
    await this.maintain(len, liveBytes, entries)
    const seg = this.active()
    const file = this.file
    try {
      await writeAll(file, buf, len, seg.size)
      if (sync) { this.syncs++; await file.datasync() }
    } catch (e) {
      // What landed is overwritten by the next write at the same offset; cut it now if we can.
      await file.truncate(seg.size).catch(() => {})
      throw e
    }
    seg.size += len
    this.totalBytes += len
    return seg
  }

  /** Before a write that would overflow the active segment: drop dead segments, then roll or compact. */
  private async maintain(incoming: number, liveBytes: number, entries: Iterable<StoredEntry>): Promise<void> {
    const act = this.active()
    if (act.size + incoming <= this.segmentBytes || act.size < this.maintainAfter) return
    try {
      // Only a dead *prefix* may go: a later segment can hold tombstones for alerts in an earlier one.
      let removed = false
      while (this.segments.length > 1 && this.segments[0].live <= 0) {
        const s = this.segments[0]
        await this.fs.unlink(join(this.dir, segmentName(s.no)))
        this.totalBytes -= s.size
        this.segments.shift()
        removed = true
      }
      if (removed) { this.syncs++; await this.fs.syncDir(this.dir) }
      if (liveBytes * 2 <= this.totalBytes) await this.compact(entries)
      else await this.roll()
      this.maintainAfter = 0
    } catch (err) {
      // Keep appending to the current segment; the disk bound is exceeded, not the alert lost.
      this.problems.io(err, 'rotating segments in', this.dir)
      this.maintainAfter = act.size + this.segmentBytes
    }
  }

  private async roll(): Promise<void> {
    const no = this.active().no + 1
    const f = await createSegment(this.fs, this.dir, no)
    this.syncs += 2
    await this.file?.close().catch(() => {})
    this.file = f
    this.segments.push({ no, size: SEGMENT_MAGIC.length, live: 0 })
    this.totalBytes += SEGMENT_MAGIC.length
  }

  /** Rewrite live durable alerts into a fresh segment, then delete all older ones. */
  async compact(entries: Iterable<StoredEntry>): Promise<void> {
    const no = this.active().no + 1
    const written: StoredEntry[] = []
    const size = await writeCompactedSegment(this.fs, this.dir, no, entries, (e) => e.durable, written)
    this.syncs += 2
    const f = await this.fs.open(join(this.dir, segmentName(no)), 'append')
    await this.file?.close().catch(() => {})
    this.file = f
    const old = this.segments
    let live = 0
    // An entry acked while the copy ran is no longer durable: its tombstone follows in the new segment.
    for (const e of written) if (e.durable) { e.segment = no; live++ }
    this.segments = [{ no, size, live }]
    this.totalBytes = size
    this.compactions++
    for (const s of old) {
      const name = segmentName(s.no)
      await this.fs.unlink(join(this.dir, name)).catch((err: unknown) => this.problems.io(err, 'deleting', name))
    }
    this.syncs++
    await this.fs.syncDir(this.dir)
  }

  /** fsync (makes trailing ack tombstones durable) and close. */
  async close(): Promise<void> {
    const f = this.file
    if (f === null) return
    this.file = null
    try { this.syncs++; await f.sync() } catch (e) { this.problems.io(e, 'syncing', this.activePath()) }
    await f.close().catch((e: unknown) => this.problems.io(e, 'closing', this.activePath()))
  }
}
