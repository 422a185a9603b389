/**
 * The alert ids this instance has taken in lately (bounded, oldest forgotten
 * first). With several instances on one database (issue 16 §3) every alert
 * reaches each of them and only the first stores it; the others find a
 * duplicate. Remembering what *this* instance saw tells a gateway's
 * redelivery (seen here before: it missed our ack) from another instance's
 * first store (not seen here: show it on this instance's consoles too).
 */
export class RecentIds {
  private readonly ids = new Set<string>()

  constructor(private readonly capacity = 100_000) {}

  has(id: string): boolean {
    return this.ids.has(id)
  }

  /** Adds `id`; returns whether it was already there. */
  add(id: string): boolean {
    if (this.ids.has(id)) return true
    this.ids.add(id)
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as string)
    return false
  }
}
