/**
 * One lane of the event ring: a fixed-capacity FIFO stored as a struct of
 * typed arrays (DESIGN §4), so queuing an event writes six numbers and
 * allocates nothing. Capacity is a power of two; indexes wrap with a mask.
 */
export class EventLane {
  readonly capacity: number
  private readonly mask: number
  readonly device: Uint16Array
  readonly kind: Uint8Array
  readonly value: Float64Array
  readonly hwTime: Float64Array
  readonly rssi: Float32Array
  /** InputFlag bits (event-kinds.ts). */
  readonly flags: Uint8Array
  private head = 0 // next to read
  private tail = 0 // next to write
  /** Events refused because the lane was full (counted, never silent). */
  overflows = 0

  constructor(capacityPow2: number) {
    if (capacityPow2 < 2 || (capacityPow2 & (capacityPow2 - 1)) !== 0) {
      throw new RangeError(`lane capacity must be a power of two >= 2, got ${capacityPow2}`)
    }
    this.capacity = capacityPow2
    this.mask = capacityPow2 - 1
    this.device = new Uint16Array(capacityPow2)
    this.kind = new Uint8Array(capacityPow2)
    this.value = new Float64Array(capacityPow2)
    this.hwTime = new Float64Array(capacityPow2)
    this.rssi = new Float32Array(capacityPow2)
    this.flags = new Uint8Array(capacityPow2)
  }

  get size(): number {
    return this.tail - this.head
  }

  /** Returns false (and counts) when full. */
  push(device: number, kind: number, value: number, hwTime: number, rssi: number, flags = 0): boolean {
    if (this.tail - this.head >= this.capacity) {
      this.overflows++
      return false
    }
    const i = this.tail & this.mask
    this.device[i] = device
    this.kind[i] = kind
    this.value[i] = value
    this.hwTime[i] = hwTime
    this.rssi[i] = rssi
    this.flags[i] = flags
    this.tail++
    return true
  }

  /** Index of the oldest event (valid while size > 0); call shift() after reading it. */
  peek(): number {
    return this.head & this.mask
  }

  shift(): void {
    this.head++
    // Keep counters small so they never lose precision in long uptimes.
    if (this.head === this.tail) this.head = this.tail = 0
  }
}
