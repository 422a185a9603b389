/**
 * Items added during one turn of the event loop, handed over together in one
 * setImmediate (issue 13 §4). aedes 1.2.0 schedules a setImmediate per
 * delivery and another per write callback; at 100 subscribers that is 200
 * immediates per PUBLISH. The broker's shared delivery (shared-delivery.ts)
 * keeps aedes' timing (the work still happens in a later immediate, never
 * inside the caller's stack) with one immediate per batch instead.
 *
 * The batch is taken before `run` sees it, so items added while `run` works
 * (a delivery's callback publishing again, say) go to the next immediate, and
 * a `run` that throws leaves the batch usable.
 */
export class ImmediateBatch<T> {
  private items: T[] = []
  private scheduled = false

  constructor(private readonly run: (items: readonly T[]) => void) {}

  /** Queues an item; the first of a batch schedules the immediate. */
  add(item: T): void {
    this.items.push(item)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flush)
    }
  }

  /** Items waiting for the next immediate. */
  get size(): number {
    return this.items.length
  }

  private readonly flush = (): void => {
    const items = this.items
    this.items = []
    this.scheduled = false
    this.run(items)
  }
}
