/**
 * Issue 6 "a full disk or read-only data directory -> a clear error, and
 * alerts still fan out locally": if the durable outbox cannot open, the
 * gateway logs the reason once and carries on with a volatile outbox, so
 * alerts still reach local subscribers and the station — only not durably.
 * `problem` says so in the retained gateway state.
 */
import type { Logger } from 'pino'
import type { CommittedListener, NewOutboxEntry, Outbox, OutboxEntry, OutboxStats } from './outbox.js'
import { MemoryOutbox } from './memory-outbox.js'

export class ResilientOutbox implements Outbox {
  private active: Outbox
  private listener: CommittedListener = () => {}
  private openProblem: string | null = null

  constructor(private readonly durable: Outbox, private readonly log: Logger) {
    this.active = durable
  }

  async open(): Promise<{ recovered: number; damaged: string | null }> {
    try {
      return await this.durable.open()
    } catch (e) {
      this.openProblem = `${(e as Error).message} — alerts are NOT stored durably until this is fixed and the gateway restarted`
      this.log.error({ err: (e as Error).message }, 'durable outbox unavailable; continuing with a volatile outbox')
      this.active = new MemoryOutbox()
      this.active.onCommitted(this.listener)
      return { recovered: 0, damaged: null }
    }
  }

  /** The current storage problem (open failure, or the durable outbox's own: disk full, read-only...), or null. */
  problem(): string | null {
    return this.openProblem ?? this.durable.problem?.() ?? null
  }

  append(entry: NewOutboxEntry): void { this.active.append(entry) }
  onCommitted(listener: CommittedListener): void {
    this.listener = listener
    this.active.onCommitted(listener)
  }
  ack(id: string): boolean { return this.active.ack(id) }
  lastSentAt(id: string): number { return this.active.lastSentAt?.(id) ?? Number.NaN }
  pending(): readonly OutboxEntry[] { return this.active.pending() }
  oldest(limit: number): readonly OutboxEntry[] { return this.active.oldest(limit) }
  stats(): OutboxStats { return this.active.stats() }
  close(): Promise<void> { return this.active.close() }
}
