/**
 * What the uplink holds while the station is unreachable, for everything that
 * is not an alert (alerts live in the outbox):
 *  - retained state: latest value per topic only (never a queue, DESIGN §4);
 *  - other messages (command replies, telemetry): a FIFO bounded at `limit`,
 *    the oldest dropped and counted when full (DESIGN §7: bounded, counted).
 */
export interface QueuedMessage {
  topic: string
  payload: Buffer
  qos: 0 | 1
  retain: boolean
}

export class BoundedQueue {
  private readonly latest = new Map<string, QueuedMessage>()
  private fifo: QueuedMessage[] = []
  dropped = 0

  constructor(private readonly limit: number) {}

  put(m: QueuedMessage): void {
    if (m.retain) {
      this.latest.set(m.topic, m)
      return
    }
    if (this.limit === 0) {
      this.dropped++
      return
    }
    if (this.fifo.length >= this.limit) {
      this.fifo.shift()
      this.dropped++
    }
    this.fifo.push(m)
  }

  /** Remove and return everything, retained state first. */
  drain(): QueuedMessage[] {
    const out = [...this.latest.values(), ...this.fifo]
    this.latest.clear()
    this.fifo = []
    return out
  }

  get size(): number {
    return this.latest.size + this.fifo.length
  }
}
