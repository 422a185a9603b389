/**
 * Per-device duplicate filter (issue 2 §5, issue 4 §3). A radio button sends
 * the same advertisement several times per press; a wire may be reported by
 * two paths. Keyed inputs (packet id / counter) are duplicates only when the
 * same kind+key is seen again within the keyed window, so a new press with a
 * new id is never eaten. Unkeyed inputs are duplicates when the same kind
 * repeats within the short unkeyed window.
 *
 * Storage: HISTORY slots per device in typed arrays, overwritten round-robin.
 */
const HISTORY = 8

export class Dedupe {
  private readonly kind: Int16Array
  private readonly key: Float64Array
  private readonly at: Float64Array
  private readonly next: Uint8Array
  /** Inputs dropped as duplicates. */
  dropped = 0

  constructor(
    deviceCount: number,
    private readonly keyedWindowMs: Float64Array,
    private readonly unkeyedWindowMs: Float64Array,
  ) {
    this.kind = new Int16Array(deviceCount * HISTORY).fill(-1)
    this.key = new Float64Array(deviceCount * HISTORY)
    this.at = new Float64Array(deviceCount * HISTORY)
    this.next = new Uint8Array(deviceCount)
  }

  /** True if this input repeats one seen within the window; otherwise records it and returns false. */
  isDuplicate(device: number, kind: number, key: number, now: number): boolean {
    const base = device * HISTORY
    const window = key >= 0 ? this.keyedWindowMs[device] : this.unkeyedWindowMs[device]
    if (window > 0) {
      for (let i = base; i < base + HISTORY; i++) {
        if (this.kind[i] === kind && this.key[i] === key && Math.abs(now - this.at[i]) < window) {
          this.dropped++
          return true
        }
      }
    }
    const slot = base + this.next[device]
    this.next[device] = (this.next[device] + 1) % HISTORY
    this.kind[slot] = kind
    this.key[slot] = key
    this.at[slot] = now
    return false
  }
}
