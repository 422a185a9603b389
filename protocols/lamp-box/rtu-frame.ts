/**
 * Modbus RTU framing (Modbus over Serial Line v1.02 §2.5): CRC-16/MODBUS and
 * an incremental framer for either direction. The gateway's master is
 * modbus-serial; this codec is the slave side of the test peer
 * (test/harness/lamp-box-slave.ts), the sim and any line sniffer.
 *
 * A real slave frames by 3.5-character silences (§2.5.1.1). Over a PTY, a USB
 * adapter's FIFO or in a fuzz test there is no timing, so frames are found by
 * length (from the function code) and CRC, and on a mismatch the framer drops
 * one byte and looks again: garbage and partial frames are counted and
 * skipped, never fatal.
 */

const CRC_TABLE = (() => {
  const t = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1 // poly 0x8005 reflected (§6.2.2)
    t[i] = c
  }
  return t
})()

/** CRC-16/MODBUS of buf[start, end). Sent low byte first (§6.2.2). */
export function crc16Modbus(buf: Uint8Array, start: number, end: number): number {
  let crc = 0xffff
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ buf[i]) & 0xff]
  return crc
}

/** Appends the CRC to buf[0, len) in place; returns the frame length (len + 2). */
export function sealFrame(buf: Uint8Array, len: number): number {
  const crc = crc16Modbus(buf, 0, len)
  buf[len] = crc & 0xff
  buf[len + 1] = crc >>> 8
  return len + 2
}

/** Max RTU frame (§2.5.1.1: 256 bytes). */
export const RTU_MAX_FRAME = 256

export type RtuDirection = 'request' | 'response'

/** Receives whole frames (CRC checked, CRC bytes included in len). The bytes are valid only during the call. */
export interface RtuFrameSink {
  frame(buf: Uint8Array, offset: number, len: number): void
}

/**
 * Length of the frame starting at buf[i] (avail bytes available), 0 if more
 * bytes are needed to know, -1 if no valid frame can start here.
 */
function frameLength(dir: RtuDirection, buf: Uint8Array, i: number, avail: number): number {
  if (avail < 2) return 0
  const unit = buf[i]
  const fc = buf[i + 1]
  if (unit > 247) return -1 // 0 = broadcast, 1..247 units, 248..255 reserved (§2.2)
  if (dir === 'request') {
    if (fc >= 1 && fc <= 6) return 8
    if (fc === 15 || fc === 16) {
      if (avail < 7) return 0
      const n = buf[i + 6]
      return n > RTU_MAX_FRAME - 9 ? -1 : 9 + n
    }
    return -1
  }
  if (fc & 0x80) return (fc & 0x7f) >= 1 && (fc & 0x7f) <= 16 ? 5 : -1
  if (fc >= 1 && fc <= 4) {
    if (avail < 3) return 0
    return 5 + buf[i + 2]
  }
  if (fc === 5 || fc === 6 || fc === 15 || fc === 16) return 8
  return -1
}

/**
 * Incremental RTU framer: push chunks, get whole frames. Keeps one fixed
 * buffer (2 frames long), never allocates after construction, never throws.
 */
export class RtuFramer {
  private readonly buf = new Uint8Array(RTU_MAX_FRAME * 2)
  private len = 0
  frames = 0
  /** Bytes skipped because no frame could start there or its CRC was wrong. */
  garbageBytes = 0
  /** Candidate frames whose CRC did not match (each also skips a byte). */
  crcErrors = 0

  constructor(readonly direction: RtuDirection) {}

  /** Bytes held waiting for the rest of a frame. */
  get pending(): number { return this.len }

  reset(): void { this.len = 0 }

  push(chunk: Uint8Array, sink: RtuFrameSink): void {
    let at = 0
    while (at < chunk.length) {
      const n = Math.min(chunk.length - at, this.buf.length - this.len)
      this.buf.set(chunk.subarray(at, at + n), this.len)
      this.len += n
      at += n
      this.scan(sink)
      if (this.len === this.buf.length) {
        // Cannot happen with valid frames (each < RTU_MAX_FRAME): drop a byte to make room.
        this.drop(1)
        this.garbageBytes++
      }
    }
  }

  private scan(sink: RtuFrameSink): void {
    let i = 0
    while (i < this.len) {
      const avail = this.len - i
      const flen = frameLength(this.direction, this.buf, i, avail)
      if (flen < 0 || flen > RTU_MAX_FRAME) { i++; this.garbageBytes++; continue }
      if (flen === 0 || flen > avail) break // wait for more bytes
      const crc = this.buf[i + flen - 2] | (this.buf[i + flen - 1] << 8)
      if (crc !== crc16Modbus(this.buf, i, i + flen - 2)) { i++; this.garbageBytes++; this.crcErrors++; continue }
      this.frames++
      sink.frame(this.buf, i, flen)
      i += flen
    }
    if (i > 0) this.drop(i)
  }

  private drop(n: number): void {
    this.buf.copyWithin(0, n, this.len)
    this.len -= n
  }
}
