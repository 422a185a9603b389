/**
 * Linux input events as the kernel's gpio-keys driver reports a button
 * (issue 3 §5): the record format, and the decoder both readers share, the
 * gateway's driver (hw-gpio.ts, blocking read) and `safehouse pair button
 * --gpio` (provisioning/pair/button-gpio-learn.ts, non-blocking read).
 *
 * Wire format: `struct input_event` (linux/input.h): struct timeval (two
 * longs), __u16 type, __u16 code, __s32 value = 24 bytes on 64-bit, 16 bytes
 * for a 32-bit process. EV_KEY (1): value 1 = pressed, 0 = released,
 * 2 = autorepeat (ignored). The kernel only ever returns whole events; a
 * partial tail (a FIFO in tests) is carried to the next read.
 */

export const EV_KEY = 1
/** Size of struct input_event for this process's ABI. */
export const INPUT_EVENT_SIZE = process.arch === 'arm' || process.arch === 'ia32' ? 16 : 24
/** type, code and value are the last 8 bytes, after the timeval. */
const TYPE_OFFSET = INPUT_EVENT_SIZE - 8
/** EV_KEY value of a held key repeating (input.h); a button is pressed once. */
const AUTOREPEAT = 2

/** Encode one input_event (tests, tools): little-endian like every Pi. */
export function encodeInputEvent(type: number, code: number, value: number, wallMs = Date.now(), size = INPUT_EVENT_SIZE): Buffer {
  const b = Buffer.alloc(size)
  const sec = Math.floor(wallMs / 1000)
  const usec = Math.round((wallMs % 1000) * 1000)
  if (size === 24) { b.writeBigInt64LE(BigInt(sec), 0); b.writeBigInt64LE(BigInt(usec), 8) } else { b.writeInt32LE(sec, 0); b.writeInt32LE(usec, 4) }
  b.writeUInt16LE(type, size - 8)
  b.writeUInt16LE(code, size - 6)
  b.writeInt32LE(value, size - 4)
  return b
}

/** Called per EV_KEY event other than autorepeat: `value` 1 pressed, 0 released. */
export type KeyEventHandler = (code: number, value: number) => void

/**
 * Incremental, allocation-free decoder: the reader reads straight into `buf`
 * at `fill` (up to `room` bytes), then hands the byte count to decode().
 */
export class InputEventDecoder {
  readonly buf = Buffer.alloc(INPUT_EVENT_SIZE * 64)
  private filled = 0

  constructor(private readonly onKey: KeyEventHandler) {}

  /** Where the next read writes: after a carried partial event. */
  get fill(): number { return this.filled }
  /** How many bytes the next read may write. */
  get room(): number { return this.buf.length - this.filled }

  /** Forget a carried partial event (a new device, a reopened one). */
  reset(): void { this.filled = 0 }

  /** `n` bytes were read at `fill`: report each whole key event, carry a partial one. */
  decode(n: number): void {
    const total = this.filled + n
    const buf = this.buf
    let off = 0
    for (; off + INPUT_EVENT_SIZE <= total; off += INPUT_EVENT_SIZE) {
      if (buf.readUInt16LE(off + TYPE_OFFSET) !== EV_KEY) continue
      const value = buf.readInt32LE(off + TYPE_OFFSET + 4)
      if (value !== AUTOREPEAT) this.onKey(buf.readUInt16LE(off + TYPE_OFFSET + 2), value)
    }
    this.filled = total - off
    if (this.filled > 0) buf.copyWithin(0, off, total)
  }
}
