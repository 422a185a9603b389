/**
 * Open-time recovery of the outbox log (issue 6 "Bad input": a corrupt or
 * truncated outbox file -> recovered up to the last whole record, the damage
 * reported, nothing else lost).
 *
 * Segments are replayed oldest first: an alert record adds (or, for a repeated
 * id, replaces in place), an ack tombstone removes. Damage in the middle of a
 * segment (bit rot) is skipped by resyncing on the next record that has a
 * valid magic and CRC; damage running to the end of the newest segment is a
 * torn write and is cut off so new records follow the last whole one.
 */
import { join } from 'node:path'
import type { OutboxFs } from './outbox-fs.js'
import { COMPACTED_MAGIC, HEADER_BYTES, RECORD_MAGIC, SEGMENT_MAGIC, TYPE_ALERT, decodeRecord } from './outbox-log-format.js'
import { type SegmentInfo, StoredEntry, isTempName, segmentName, segmentNumber } from './outbox-segments.js'

export interface ScanResult {
  /** End of the last whole record (where the next write goes). */
  end: number
  /** Bytes from `end` to the end of the file that are not whole records. */
  tailBytes: number
  /** Damage that was skipped in the middle ("skipped 40 bytes at offset 1234"). */
  skipped: string[]
  badHeader: boolean
}

export interface ReplaySink {
  alert(e: StoredEntry, segment: number): void
  ack(id: string): void
}

function resync(buf: Buffer, from: number, end: number): number {
  const lo = RECORD_MAGIC & 0xff
  const hi = RECORD_MAGIC >>> 8
  for (let y = from; y + HEADER_BYTES <= end; y++) {
    if (buf[y] === lo && buf[y + 1] === hi && decodeRecord(buf, y, end).ok) return y
  }
  return -1
}

/** Replay one segment's records into `sink`. Pure over the buffer; never throws. */
export function scanSegment(buf: Buffer, segment: number, sink: ReplaySink, intern = new Map<string, string>()): ScanResult {
  const len = buf.length
  if (len < SEGMENT_MAGIC.length) {
    // A segment cut off while its header was being written holds nothing.
    const prefixOk = buf.equals(SEGMENT_MAGIC.subarray(0, len))
    return { end: 0, tailBytes: len, skipped: [], badHeader: !prefixOk }
  }
  const head = buf.subarray(0, SEGMENT_MAGIC.length)
  if (!head.equals(SEGMENT_MAGIC) && !head.equals(COMPACTED_MAGIC)) {
    return { end: 0, tailBytes: len, skipped: [], badHeader: true }
  }
  const skipped: string[] = []
  let off = SEGMENT_MAGIC.length
  while (off < len) {
    const r = decodeRecord(buf, off, len, intern)
    if (r.ok) {
      const v = r.value
      if (v.type === TYPE_ALERT) sink.alert(new StoredEntry(v.id, v.device, v.topic, v.payload, v.acceptedAt), segment)
      else sink.ack(v.id)
      off = v.next
      continue
    }
    const y = resync(buf, off + 1, len)
    if (y < 0) return { end: off, tailBytes: len - off, skipped, badHeader: false }
    skipped.push(`skipped ${y - off} bytes at offset ${off}`)
    off = y
  }
  return { end: len, tailBytes: 0, skipped, badHeader: false }
}

export interface RecoveredLog {
  entries: Map<string, StoredEntry>
  segments: SegmentInfo[]
  damage: string[]
  /** Damage that stays in a file (mid-segment, or a sealed segment's tail): compact to clean it. */
  needsCompaction: boolean
  /** Files left by an interrupted compaction (tmp files, superseded segments), removed. */
  removedTemps: string[]
}

/**
 * Read every segment in `dir`, replay them, cut a torn tail off the newest,
 * move a file with a foreign header aside (never delete what we cannot read).
 */
export async function recoverDir(fs: OutboxFs, dir: string): Promise<RecoveredLog> {
  const names = await fs.readdir(dir)
  const removedTemps: string[] = []
  for (const n of names) {
    if (isTempName(n)) {
      await fs.unlink(join(dir, n))
      removedTemps.push(n)
    }
  }
  const numbers = names.map(segmentNumber).filter((n) => n >= 0).sort((a, b) => a - b)
  const entries = new Map<string, StoredEntry>()
  const segments: SegmentInfo[] = []
  const damage: string[] = []
  let needsCompaction = false
  const intern = new Map<string, string>()
  const sink: ReplaySink = {
    alert(e, segment) {
      const old = entries.get(e.id)
      if (old !== undefined) {
        const s = segments.find((x) => x.no === old.segment)
        if (s) s.live--
      }
      e.committed = true
      e.stored = true
      e.durable = true
      e.segment = segment
      entries.set(e.id, e)
      segments[segments.length - 1].live++
    },
    ack(id) {
      const old = entries.get(id)
      if (old === undefined) return
      entries.delete(id)
      const s = segments.find((x) => x.no === old.segment)
      if (s) s.live--
    },
  }
  for (let i = 0; i < numbers.length; i++) {
    const no = numbers[i]
    const name = segmentName(no)
    const path = join(dir, name)
    const last = i === numbers.length - 1
    const buf = await fs.readFile(path)
    if (buf.subarray(0, COMPACTED_MAGIC.length).equals(COMPACTED_MAGIC)) {
      // Holds the whole live state: older segments are leftovers of a crash before their deletion.
      for (const s of segments) {
        await fs.unlink(join(dir, segmentName(s.no)))
        removedTemps.push(segmentName(s.no))
      }
      segments.length = 0
      entries.clear()
    }
    segments.push({ no, size: 0, live: 0 })
    const r = scanSegment(buf, no, sink, intern)
    if (r.badHeader) {
      segments.pop()
      await fs.rename(path, path + '.bad')
      damage.push(`${name} is not an outbox segment (bad header, ${buf.length} bytes); moved aside to ${name}.bad`)
      continue
    }
    for (const s of r.skipped) damage.push(`${s} in ${name}`)
    if (r.skipped.length > 0) needsCompaction = true
    const seg = segments[segments.length - 1]
    seg.size = r.end
    if (r.tailBytes > 0) {
      damage.push(`truncated ${r.tailBytes} bytes at offset ${r.end} in ${name}`)
      if (!last) needsCompaction = true
    }
    if (last && r.end === 0) {
      // Cut off while its header was written (or empty): start the file afresh.
      const f = await fs.open(path, 'create')
      try { await f.write(SEGMENT_MAGIC, 0, SEGMENT_MAGIC.length, 0); await f.sync() } finally { await f.close() }
      seg.size = SEGMENT_MAGIC.length
    } else if (last && r.tailBytes > 0) {
      const f = await fs.open(path, 'append')
      try { await f.truncate(r.end); await f.sync() } finally { await f.close() }
    }
  }
  return { entries, segments, damage, needsCompaction, removedTemps }
}
