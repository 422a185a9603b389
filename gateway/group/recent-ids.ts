/**
 * The alert ids relayed lately: a neighbour's alert arrives twice on purpose
 * (through the station broker and directly from the peer, issue 6 §5) and
 * must be relayed once. Bounded: the oldest id is forgotten first; by then the
 * alert is past group_fanout.max_age_s and would be refused as stale anyway.
 */
export class RecentIds {
  private readonly ring: (string | undefined)[]
  private readonly set = new Set<string>()
  private next = 0

  constructor(capacity = 4096) {
    this.ring = new Array<string | undefined>(capacity)
  }

  /** True the first time an id is seen (and remembers it); false for a repeat. */
  add(id: string): boolean {
    if (this.set.has(id)) return false
    const old = this.ring[this.next]
    if (old !== undefined) this.set.delete(old)
    this.ring[this.next] = id
    this.next = (this.next + 1) % this.ring.length
    this.set.add(id)
    return true
  }
}
