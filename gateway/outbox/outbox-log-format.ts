/**
 * On-disk framing of the outbox log (docs/operations.md "The outbox").
 *
 * A segment file is an 8-byte magic followed by records. The magic of a
 * segment written by compaction differs ('SHOUTBC1'): such a segment holds
 * the whole live state, so recovery ignores every older segment (a crash may
 * have left some of them undeleted) — otherwise their entries would be
 * replayed first and acceptance order lost.
 *
 *   offset size
 *   0      2    record magic 0x0B5A (LE) — lets recovery resync after damage cheaply
 *   2      1    type: 1 = alert, 2 = ack (tombstone)
 *   3      1    reserved, 0
 *   4      4    body length (LE)
 *   8      4    CRC-32 over bytes [2, 8) and the body — so a torn or flipped
 *               length is caught, not only a torn body
 *   12     n    body
 *
 *   alert body: f64 acceptedAt, u16 idLen, u16 deviceLen, u16 topicLen,
 *               id, device, topic (UTF-8), payload (the rest)
 *   ack body:   id (UTF-8)
 *
 * A power cut mid-write leaves a prefix of a record (or zeros, or stale
 * pages): the length runs past the end of the file or the CRC fails, and
 * recovery stops there. Encoders write into a caller's buffer at an offset and
 * allocate nothing; decoders never throw on bad input.
 */
import { crc32 } from './outbox-crc32.js'

export const SEGMENT_MAGIC = Buffer.from('SHOUTBX1', 'latin1')
export const COMPACTED_MAGIC = Buffer.from('SHOUTBC1', 'latin1')
export const RECORD_MAGIC = 0x0b5a
export const HEADER_BYTES = 12
export const ALERT_FIXED_BYTES = 14
export const TYPE_ALERT = 1
export const TYPE_ACK = 2
/** Sanity bound for a body length read from disk (no alert is near this). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024
const MAX_FIELD_BYTES = 0xffff

/** Exact record size of an alert, or -1 when a field is too long to frame. */
export function alertRecordBytes(id: string, device: string, topic: string, payload: Buffer): number {
  const i = Buffer.byteLength(id, 'utf8')
  const d = Buffer.byteLength(device, 'utf8')
  const t = Buffer.byteLength(topic, 'utf8')
  if (i > MAX_FIELD_BYTES || d > MAX_FIELD_BYTES || t > MAX_FIELD_BYTES) return -1
  const body = ALERT_FIXED_BYTES + i + d + t + payload.length
  return body > MAX_BODY_BYTES ? -1 : HEADER_BYTES + body
}

export function ackRecordBytes(id: string): number {
  return HEADER_BYTES + Buffer.byteLength(id, 'utf8')
}

function sealHeader(buf: Buffer, off: number, type: number, bodyLen: number): void {
  buf.writeUInt16LE(RECORD_MAGIC, off)
  buf[off + 2] = type
  buf[off + 3] = 0
  buf.writeUInt32LE(bodyLen, off + 4)
  const c = crc32(buf, off + 2, off + 8)
  buf.writeUInt32LE(crc32(buf, off + HEADER_BYTES, off + HEADER_BYTES + bodyLen, c), off + 8)
}

/** Write an alert record at `off` (capacity checked by the caller with alertRecordBytes). Returns bytes written. */
export function encodeAlert(
  buf: Buffer, off: number, id: string, device: string, topic: string, acceptedAt: number, payload: Buffer,
): number {
  const b = off + HEADER_BYTES
  buf.writeDoubleLE(acceptedAt, b)
  let p = b + ALERT_FIXED_BYTES
  const i = buf.write(id, p, 'utf8'); p += i
  const d = buf.write(device, p, 'utf8'); p += d
  const t = buf.write(topic, p, 'utf8'); p += t
  buf.writeUInt16LE(i, b + 8)
  buf.writeUInt16LE(d, b + 10)
  buf.writeUInt16LE(t, b + 12)
  p += payload.copy(buf, p)
  sealHeader(buf, off, TYPE_ALERT, p - b)
  return p - off
}

/** Write an ack tombstone at `off`. Returns bytes written. */
export function encodeAck(buf: Buffer, off: number, id: string): number {
  const n = buf.write(id, off + HEADER_BYTES, 'utf8')
  sealHeader(buf, off, TYPE_ACK, n)
  return HEADER_BYTES + n
}

function internString(table: Map<string, string>, s: string): string {
  const had = table.get(s)
  if (had !== undefined) return had
  table.set(s, s)
  return s
}

export interface DecodedAlert {
  type: typeof TYPE_ALERT
  id: string
  device: string
  topic: string
  acceptedAt: number
  /** A copy: it must not pin the (large) read buffer. */
  payload: Buffer
  next: number
}
export interface DecodedAck { type: typeof TYPE_ACK; id: string; next: number }
export type DecodeError = 'short' | 'bad-magic' | 'bad-length' | 'bad-crc' | 'bad-body'
export type DecodeResult = { ok: true; value: DecodedAlert | DecodedAck } | { ok: false; error: DecodeError }

/**
 * Decode the record at `off` within buf[0, end). Never throws. `intern` maps
 * device and topic strings to one shared copy (a 100,000-alert backlog has a
 * few dozen distinct ones).
 */
export function decodeRecord(buf: Buffer, off: number, end: number, intern?: Map<string, string>): DecodeResult {
  if (end - off < HEADER_BYTES) return { ok: false, error: 'short' }
  if (buf.readUInt16LE(off) !== RECORD_MAGIC) return { ok: false, error: 'bad-magic' }
  const type = buf[off + 2]
  const len = buf.readUInt32LE(off + 4)
  if ((type !== TYPE_ALERT && type !== TYPE_ACK) || buf[off + 3] !== 0 || len > MAX_BODY_BYTES) {
    return { ok: false, error: 'bad-length' }
  }
  const b = off + HEADER_BYTES
  if (b + len > end) return { ok: false, error: 'short' }
  if (crc32(buf, b, b + len, crc32(buf, off + 2, off + 8)) !== buf.readUInt32LE(off + 8)) {
    return { ok: false, error: 'bad-crc' }
  }
  if (type === TYPE_ACK) return { ok: true, value: { type, id: buf.toString('utf8', b, b + len), next: b + len } }
  if (len < ALERT_FIXED_BYTES) return { ok: false, error: 'bad-body' }
  const i = buf.readUInt16LE(b + 8)
  const d = buf.readUInt16LE(b + 10)
  const t = buf.readUInt16LE(b + 12)
  let p = b + ALERT_FIXED_BYTES
  if (p + i + d + t > b + len) return { ok: false, error: 'bad-body' }
  const id = buf.toString('utf8', p, p + i); p += i
  let device = buf.toString('utf8', p, p + d); p += d
  let topic = buf.toString('utf8', p, p + t); p += t
  if (intern !== undefined) {
    device = internString(intern, device)
    topic = internString(intern, topic)
  }
  const payload = Buffer.from(buf.subarray(p, b + len))
  return { ok: true, value: { type, id, device, topic, acceptedAt: buf.readDoubleLE(b), payload, next: b + len } }
}
