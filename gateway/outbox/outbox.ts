/**
 * The outbox holds every accepted alert until the station acknowledges it
 * (DESIGN §4 "Never lose an alert"). The uplink plugs into this interface:
 *
 *   core ──append()──▶ outbox ──onCommitted(batch)──▶ uplink.publish (QoS 1)
 *   station ack ──▶ uplink ──ack(id)──▶ outbox (delete)
 *   reconnect ──▶ uplink ──pending()──▶ replay in acceptance order
 *
 * An implementation may batch appends (group commit); it must call the
 * committed listener only once the records are durable, and in append order.
 * Implementations: MemoryOutbox (tests, demo, `outbox.kind: memory`),
 * FileOutbox (issue 6: crash-safe append-only log). Both pass
 * test/gateway/outbox/conformance.ts.
 */
export interface OutboxEntry {
  /** Globally unique alert id (site:post:seq). */
  readonly id: string
  /** Device id (replay is in order per device). */
  readonly device: string
  /** MQTT topic the alert is published to. */
  readonly topic: string
  /** The encoded alert payload (JSON bytes). */
  readonly payload: Buffer
  /** Wall ms when the gateway accepted it. */
  readonly acceptedAt: number
  /** How many times the uplink has sent it (0 until first send). */
  attempts: number
  /** Wall ms of the last send to the station (NaN until first sent): the ack timeout counts from it. */
  lastSentAt: number
}

/** What a caller hands to append(): the send bookkeeping starts empty. */
export type NewOutboxEntry = Omit<OutboxEntry, 'attempts' | 'lastSentAt'>

export interface OutboxStats {
  depth: number
  appended: number
  acked: number
  unknownAcks: number
  commits: number
  /** Alerts that could not be made durable (disk full / read-only); they still fan out locally. */
  writeErrors: number
}

export type CommittedListener = (batch: readonly OutboxEntry[]) => void

export interface Outbox {
  /** Load what survived the last run. Resolves with what was recovered. */
  open(): Promise<{ recovered: number; damaged: string | null }>
  /** Accept an alert. Never throws for I/O: a write failure is counted and reported by the listener still being called (the alert is sent, just not durable). */
  append(entry: NewOutboxEntry): void
  /** Called with each batch once durable, in append order. One listener. */
  onCommitted(listener: CommittedListener): void
  /** Station acknowledged `id`: remove it. Returns false (and counts) for an unknown id. */
  ack(id: string): boolean
  /** Entries not yet acknowledged, in acceptance order. */
  pending(): readonly OutboxEntry[]
  /** The oldest `limit` entries of pending(), without copying the whole backlog (periodic checks). */
  oldest(limit: number): readonly OutboxEntry[]
  stats(): OutboxStats
  /** When `id` was last sent to the station (NaN: never sent, or not held): the ack latency metric (issue 14). */
  lastSentAt?(id: string): number
  /** Why alerts are not being stored durably right now (open failure, disk full...), or null. */
  problem?(): string | null
  close(): Promise<void>
}
