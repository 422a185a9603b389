/**
 * Segment files of the outbox log: naming, the in-memory record of each
 * entry's place on disk, and the atomic rewrite used by compaction
 * (write tmp, fsync, rename, fsync dir — so a crash leaves either the old
 * segments or the new one, never a half-written segment under a real name).
 */
import { join } from 'node:path'
import type { OutboxEntry } from './outbox.js'
import type { OutboxFile, OutboxFs } from './outbox-fs.js'
import { COMPACTED_MAGIC, SEGMENT_MAGIC, alertRecordBytes, encodeAlert } from './outbox-log-format.js'

const SEGMENT_RE = /^outbox-(\d{6,})\.log$/

export function segmentName(no: number): string {
  return `outbox-${String(no).padStart(6, '0')}.log`
}

/** Segment number of a file name, or -1 when it is not a segment. */
export function segmentNumber(name: string): number {
  const m = SEGMENT_RE.exec(name)
  return m ? Number(m[1]) : -1
}

export function isTempName(name: string): boolean {
  return name.startsWith('outbox-') && name.endsWith('.log.tmp')
}

/** An accepted alert plus where (and whether) it sits on disk. */
export class StoredEntry implements OutboxEntry {
  attempts = 0
  lastSentAt = Number.NaN
  /** The committed listener has seen it (pending() lists only these). */
  committed = false
  /** Counted against max_alerts/max_bytes: its record is on disk or being written. */
  stored = false
  /** Its record is on disk (fdatasync done); false after a write error or when the outbox was full. */
  durable = false
  /** Segment number holding its record (valid when durable). */
  segment = 0
  /** Exact record size; -1 when it cannot be framed. */
  readonly recordBytes: number
  constructor(
    readonly id: string,
    readonly device: string,
    readonly topic: string,
    readonly payload: Buffer,
    readonly acceptedAt: number,
  ) {
    this.recordBytes = alertRecordBytes(id, device, topic, payload)
  }
}

export interface SegmentInfo {
  no: number
  /** Bytes of whole records (plus header): the next write position. */
  size: number
  /** Durable live alerts whose record is in this segment. */
  live: number
}

/** Create an empty segment under its final name (header fsynced, dir fsynced). */
export async function createSegment(fs: OutboxFs, dir: string, no: number): Promise<OutboxFile> {
  const file = await fs.open(join(dir, segmentName(no)), 'create')
  try {
    await writeAll(file, SEGMENT_MAGIC, SEGMENT_MAGIC.length, 0)
    await file.sync()
    await fs.syncDir(dir)
    return file
  } catch (e) {
    await file.close().catch(() => {})
    throw e
  }
}

export async function writeAll(file: OutboxFile, buf: Buffer, len: number, position: number): Promise<void> {
  let done = 0
  while (done < len) {
    const n = await file.write(buf, done, len - done, position + done)
    if (n <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' })
    done += n
  }
}

/**
 * Write `entries` into segment `no` atomically and return its size. The caller
 * switches to it and deletes older segments afterwards. Entries acked while
 * this runs may still be written; their tombstones follow in the new segment.
 */
export async function writeCompactedSegment(
  fs: OutboxFs, dir: string, no: number, entries: Iterable<StoredEntry>, include: (e: StoredEntry) => boolean,
  written: StoredEntry[],
): Promise<number> {
  const tmp = join(dir, segmentName(no) + '.tmp')
  const file = await fs.open(tmp, 'create')
  let ok = false
  try {
    let chunk = Buffer.allocUnsafe(256 * 1024)
    COMPACTED_MAGIC.copy(chunk, 0)
    let used = COMPACTED_MAGIC.length
    let pos = 0
    for (const e of entries) {
      if (!include(e)) continue
      if (used + e.recordBytes > chunk.length) {
        await writeAll(file, chunk, used, pos)
        pos += used
        used = 0
        if (e.recordBytes > chunk.length) chunk = Buffer.allocUnsafe(e.recordBytes)
      }
      used += encodeAlert(chunk, used, e.id, e.device, e.topic, e.acceptedAt, e.payload)
      written.push(e)
    }
    await writeAll(file, chunk, used, pos)
    pos += used
    await file.sync()
    ok = true
    await file.close()
    await fs.rename(tmp, join(dir, segmentName(no)))
    await fs.syncDir(dir)
    return pos
  } finally {
    if (!ok) {
      await file.close().catch(() => {})
      await fs.unlink(tmp).catch(() => {})
    }
  }
}
