/**
 * The live feed (station-api StationLive): every change gets the next seq
 * and goes to the subscribers and into a bounded ring, so a browser that
 * reconnects asks since(lastSeen) and gets what it missed, or null when it is
 * further behind than the ring and must reload its view from the store.
 * A subscriber that throws is isolated (it never stops the others or ingest).
 */
import type { LiveEvent, StationLive } from '../station-api.js'

export class LiveFeed implements StationLive {
  private seq = 0
  private readonly ring: Array<{ seq: number; e: LiveEvent }> = []
  private readonly subs = new Set<(seq: number, e: LiveEvent) => void>()
  /** Subscriber exceptions, counted (StationHealth counters). */
  subscriberErrors = 0

  constructor(private readonly capacity = 10_000) {}

  get lastSeq(): number {
    return this.seq
  }

  publish(e: LiveEvent): number {
    const seq = ++this.seq
    this.ring.push({ seq, e })
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity)
    for (const fn of this.subs) {
      try {
        fn(seq, e)
      } catch {
        this.subscriberErrors++
      }
    }
    return seq
  }

  subscribe(fn: (seq: number, e: LiveEvent) => void): () => void {
    this.subs.add(fn)
    return () => { this.subs.delete(fn) }
  }

  since(seq: number): Array<{ seq: number; e: LiveEvent }> | null {
    if (seq >= this.seq) return []
    const first = this.ring[0]?.seq ?? this.seq + 1
    if (seq + 1 < first) return null
    return this.ring.slice(seq + 1 - first)
  }
}
