/**
 * The store as ingest, actions and roll call use it: the console's read-only
 * StationStore (station-api.ts) plus the writes. One implementation
 * (sql-store.ts) over two engines.
 */
import type { AlertRow, RejectedRow, RollCallEntryState, RollCallRow, StationStore } from '../station-api.js'
import type { FleetSummary } from './fleet-summary.js'

export type AlertInsert = Omit<AlertRow, 'ackBy' | 'ackAt' | 'ackNote'>

/** stored: new row; duplicate: same id, same content (a redelivery); conflict: same id, other content (rejected). */
export type AlertInsertResult = 'stored' | 'duplicate' | 'conflict'

export type AckResult = 'acked' | 'already' | 'unknown'

export interface StationDb extends StationStore {
  /** Cheap round trip: throws when the database cannot be reached. */
  ping(): Promise<void>
  insertAlert(a: AlertInsert): Promise<AlertInsertResult>
  /** Several alerts in one statement (a burst); results in the same order. */
  insertAlerts(a: readonly AlertInsert[]): Promise<AlertInsertResult[]>
  setStatus(site: string, post: string, online: boolean, since: number | null, at: number): Promise<void>
  setGatewayState(site: string, post: string, state: Record<string, unknown>, at: number): Promise<void>
  setDeviceState(site: string, post: string, device: string, state: Record<string, unknown>, at: number): Promise<void>
  /** Several device states in one statement (latest value per device; one row per device in the list). */
  setDeviceStates(list: ReadonlyArray<{ site: string; post: string; device: string; state: Record<string, unknown> }>, at: number): Promise<void>
  setTestReport(site: string, post: string, intervalS: number, outboxDepth: number, at: number): Promise<void>
  setWalkTestReport(site: string, post: string, report: Record<string, unknown>, at: number): Promise<void>
  /** Every post that ever sent a valid status or state: the "known" posts (ingest's rule). */
  knownPosts(): Promise<Array<{ site: string; post: string }>>
  /** The fleet's figures for /metrics: one row per post, alert counts by class (bounded; no alert rows). */
  fleet(): Promise<FleetSummary>
  addRejected(row: Omit<RejectedRow, 'id'>): Promise<RejectedRow>
  rejectedCount(): Promise<number>
  acknowledge(id: string, by: string, at: number, note: string | null): Promise<AckResult>
  createRollCall(rc: RollCallRow): Promise<void>
  setRollCallEntry(id: string, site: string, post: string, state: RollCallEntryState, by: string | null, at: number | null): Promise<void>
  close(): Promise<void>
}
