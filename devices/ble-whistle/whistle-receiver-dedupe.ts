/**
 * Burst dedupe for the WhistleReceiver: one press = one alert (issue 4 §3).
 *
 * Per device, the last DEDUPE_RING keys with the receiver time of their last
 * sighting. A key repeats when it was seen within the device's window
 * (sliding: each repeat extends it), or, for "sticky" keys (BTHome packet
 * ids), when it equals the device's previous key however old: bthome.io/format
 * "Packet id": receivers "should only process the advertisement if the packet
 * id is different compared to the previous one". Typed arrays, no allocation.
 */

/** Remembered keys per device, so an interleaved repeat (A, B, A) is still one press each. */
export const DEDUPE_RING = 4

// Key tags keep packet ids, counters, payload hashes and iBeacon minors apart within one device (all < 2^53).
export const TAG_COUNTER = 2 ** 32
export const TAG_HASH = 2 ** 33
export const TAG_IBEACON = 2 ** 34

export class BurstDedupe {
  private readonly key: Float64Array
  private readonly time: Float64Array
  private readonly pos: Uint8Array

  constructor(private readonly windowMs: Float64Array) {
    const n = windowMs.length
    this.key = new Float64Array(n * DEDUPE_RING).fill(NaN)
    this.time = new Float64Array(n * DEDUPE_RING).fill(-Infinity)
    this.pos = new Uint8Array(n)
  }

  /** True when `key` repeats (see above); otherwise records it and returns false. */
  seen(slot: number, key: number, sticky: boolean, now: number): boolean {
    const base = slot * DEDUPE_RING
    const win = this.windowMs[slot]
    const prev = (this.pos[slot] + DEDUPE_RING - 1) % DEDUPE_RING
    for (let j = 0; j < DEDUPE_RING; j++) {
      if (this.key[base + j] === key && (now - this.time[base + j] <= win || (sticky && j === prev))) {
        this.time[base + j] = now
        return true
      }
    }
    const p = this.pos[slot]
    this.key[base + p] = key
    this.time[base + p] = now
    this.pos[slot] = (p + 1) % DEDUPE_RING
    return false
  }
}

/** FNV-1a 32-bit: dedupe key for plaintext packets that carry neither packet id nor counter. */
export function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193)
  return h >>> 0
}
