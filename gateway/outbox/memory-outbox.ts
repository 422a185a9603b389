/**
 * Volatile outbox: same contract as the durable one, nothing on disk. Used by
 * unit tests and by `outbox.kind: memory` (the demo). "Committed" is the next
 * microtask, so callers see the same asynchrony as with group commit.
 */
import type { CommittedListener, NewOutboxEntry, Outbox, OutboxEntry, OutboxStats } from './outbox.js'

export class MemoryOutbox implements Outbox {
  private readonly entries = new Map<string, OutboxEntry>()
  private batch: OutboxEntry[] = []
  private listener: CommittedListener = () => {}
  private scheduled = false
  private readonly counters: OutboxStats = { depth: 0, appended: 0, acked: 0, unknownAcks: 0, commits: 0, writeErrors: 0 }

  async open(): Promise<{ recovered: number; damaged: string | null }> {
    return { recovered: 0, damaged: null }
  }

  append(entry: NewOutboxEntry): void {
    // Spelled out, not `{ ...entry }`: the spread copy was the larger part of append() in the
    // separate-process latency bench's profile (issue 13 §1), and every entry keeps one shape.
    const e: OutboxEntry = {
      id: entry.id, device: entry.device, topic: entry.topic, payload: entry.payload, acceptedAt: entry.acceptedAt,
      attempts: 0, lastSentAt: Number.NaN,
    }
    // A repeated id (replayed after a crash) replaces, never duplicates.
    this.entries.set(e.id, e)
    this.batch.push(e)
    this.counters.appended++
    if (!this.scheduled) {
      this.scheduled = true
      queueMicrotask(() => this.commit())
    }
  }

  private commit(): void {
    this.scheduled = false
    const batch = this.batch
    this.batch = []
    this.counters.commits++
    this.listener(batch)
  }

  onCommitted(listener: CommittedListener): void {
    this.listener = listener
  }

  ack(id: string): boolean {
    if (this.entries.delete(id)) {
      this.counters.acked++
      return true
    }
    this.counters.unknownAcks++
    return false
  }

  lastSentAt(id: string): number {
    return this.entries.get(id)?.lastSentAt ?? Number.NaN
  }

  pending(): readonly OutboxEntry[] {
    return [...this.entries.values()]
  }

  oldest(limit: number): readonly OutboxEntry[] {
    const out: OutboxEntry[] = []
    for (const e of this.entries.values()) {
      if (out.length >= limit) break
      out.push(e)
    }
    return out
  }

  stats(): OutboxStats {
    return { ...this.counters, depth: this.entries.size }
  }

  async close(): Promise<void> {
    if (this.scheduled) this.commit()
  }
}
