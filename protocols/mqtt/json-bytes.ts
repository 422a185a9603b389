/**
 * Writes JSON tokens straight into a caller-owned Buffer, so an alert payload
 * is built with no string concatenation and no allocation (DESIGN §4 hot
 * path). Constant fragments are pre-encoded once at start by the caller.
 * Numbers: integers exactly (|n| <= 2^53 - 1); fractions to 3 decimals; NaN,
 * ±Infinity and larger magnitudes as null (JSON has no NaN).
 */
const MINUS = 0x2d
const ZERO = 0x30
const DOT = 0x2e
const NULL_BYTES = Buffer.from('null')
const TRUE_BYTES = Buffer.from('true')
const FALSE_BYTES = Buffer.from('false')

export class JsonBytes {
  pos = 0
  constructor(public buf: Buffer) {}

  reset(buf: Buffer): this {
    this.buf = buf
    this.pos = 0
    return this
  }

  /** True when `n` more bytes fit. */
  fits(n: number): boolean {
    return this.pos + n <= this.buf.length
  }

  raw(bytes: Buffer): this {
    bytes.copy(this.buf, this.pos)
    this.pos += bytes.length
    return this
  }

  bool(b: boolean): this {
    return this.raw(b ? TRUE_BYTES : FALSE_BYTES)
  }

  /** Non-negative or negative safe integer. */
  int(n: number): this {
    // Beyond 2^53 digits are not exact, and a 300-digit 1e300 would overrun the pooled buffer
    // (encoders size it for 24 bytes per number): write null, as for NaN.
    if (!(Math.abs(n) <= Number.MAX_SAFE_INTEGER)) return this.raw(NULL_BYTES)
    let v = Math.trunc(n)
    if (v < 0) {
      this.buf[this.pos++] = MINUS
      v = -v
    }
    if (v === 0) {
      this.buf[this.pos++] = ZERO
      return this
    }
    // Count digits, then write them right-to-left in place.
    let digits = 0
    for (let t = v; t >= 1; t = Math.floor(t / 10)) digits++
    let p = this.pos + digits - 1
    for (let t = v; t >= 1; t = Math.floor(t / 10)) this.buf[p--] = ZERO + (t % 10)
    this.pos += digits
    return this
  }

  /** A number with up to 3 decimals; null for NaN/Infinity. */
  num(n: number): this {
    // Integers go straight to int(): n * 1000 below would lose the last digits of a large one.
    if (Number.isInteger(n)) return this.int(n)
    if (!(Math.abs(n) <= Number.MAX_SAFE_INTEGER)) return this.raw(NULL_BYTES)
    const milli = Math.round(n * 1000)
    if (milli % 1000 === 0) return this.int(milli / 1000)
    if (milli < 0) this.buf[this.pos++] = MINUS
    const abs = Math.abs(milli)
    this.int(Math.floor(abs / 1000))
    this.buf[this.pos++] = DOT
    let frac = abs % 1000
    let width = 3
    while (frac % 10 === 0) { frac /= 10; width-- }
    for (let i = width - 1; i >= 0; i--) this.buf[this.pos + i] = ZERO + (frac % 10), (frac = Math.floor(frac / 10))
    this.pos += width
    return this
  }

  /** null or an integer. */
  intOrNull(n: number): this {
    return Number.isFinite(n) ? this.int(n) : this.raw(NULL_BYTES)
  }
}
