/**
 * Incremental framer for a DC-09 byte stream (TCP): push chunks, get whole
 * <LF>...<CR> frames. Bytes before an <LF> are garbage (counted); a frame
 * longer than MAX_FRAME_BYTES without its <CR> is dropped (counted as
 * oversize) and the framer resyncs at the next <LF>. Pure; never throws.
 */
import { CR, LF, MAX_FRAME_BYTES } from './frame.js'

export class Dc09Framer {
  private buf = Buffer.alloc(0)
  /** Inside an oversize frame: skip to its <CR>. */
  private skipping = false
  garbageBytes = 0
  oversize = 0

  constructor(private readonly maxFrame = MAX_FRAME_BYTES) {}

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = []
    let data = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk
    this.buf = Buffer.alloc(0)
    let i = 0
    while (i < data.length) {
      if (this.skipping) {
        const cr = data.indexOf(CR, i)
        const lf = data.indexOf(LF, i)
        // An oversize frame ends at its <CR>, or a fresh <LF> starts the next one.
        if (cr < 0 && lf < 0) { i = data.length; break }
        this.skipping = false
        i = lf >= 0 && (cr < 0 || lf < cr) ? lf : cr + 1
        continue
      }
      const lf = data.indexOf(LF, i)
      if (lf < 0) { this.garbageBytes += data.length - i; i = data.length; break }
      this.garbageBytes += lf - i
      const cr = data.indexOf(CR, lf + 1)
      const nextLf = data.indexOf(LF, lf + 1)
      if (nextLf >= 0 && (cr < 0 || nextLf < cr)) {
        // A new <LF> before this frame's <CR>: the partial frame was garbage.
        this.garbageBytes += nextLf - lf
        i = nextLf
        continue
      }
      if (cr < 0) {
        if (data.length - lf > this.maxFrame) { this.oversize++; this.skipping = true; i = data.length; break }
        this.buf = Buffer.from(data.subarray(lf))
        i = data.length
        break
      }
      if (cr + 1 - lf > this.maxFrame) { this.oversize++; i = cr + 1; continue }
      out.push(Buffer.from(data.subarray(lf, cr + 1)))
      i = cr + 1
    }
    data = Buffer.alloc(0)
    return out
  }
}
