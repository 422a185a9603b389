/**
 * Where the last accepted BTHome encryption counter of each encrypted device
 * lives, so replay protection survives a gateway restart (issue 4 §4).
 *
 * Reads and writes are synchronous (the hot path must not await); an
 * implementation persists in the background and `flush()` waits for it.
 * Modelled on mqtt.js stores: one small interface, several implementations,
 * one conformance suite (test/devices/ble-whistle/replay-store.test.ts).
 */
export interface ReplayCounterStore {
  /** Last accepted counter (0 .. 2^32-1) for the address, or -1 when none is known. */
  get(address: string): number
  /**
   * Record an accepted counter and the device's old high-water mark while it is
   * in the restarted state (replay-policy.ts; -1 or absent = normal). Persistence may be deferred (debounced).
   */
  set(address: string, counter: number, high?: number): void
  /** The old high-water mark of a device in the restarted state, or -1. */
  getHigh(address: string): number
  /** Forget a device's counter (technician reset after a battery change, or unpairing). */
  delete(address: string): void
  /** Resolves once everything set so far is durable. */
  flush(): Promise<void>
  /** Flush and stop timers. Idempotent. */
  close(): Promise<void>
}

/** Volatile store for tests and the demo: replay protection does NOT survive a restart. */
export class MemoryReplayCounterStore implements ReplayCounterStore {
  private readonly counters = new Map<string, number>()
  private readonly highs = new Map<string, number>()

  get(address: string): number {
    return this.counters.get(address) ?? -1
  }

  getHigh(address: string): number {
    return this.highs.get(address) ?? -1
  }

  set(address: string, counter: number, high = -1): void {
    this.counters.set(address, counter)
    if (high >= 0) this.highs.set(address, high)
    else this.highs.delete(address)
  }

  delete(address: string): void {
    this.counters.delete(address)
    this.highs.delete(address)
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

/** A counter value a store may hold: an unsigned 32-bit integer. */
export function isCounter(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff
}
