/**
 * The messages between the city run's split load generator (split-fleet.ts,
 * in the run's process) and its generator processes (split-fleet-child.ts,
 * each a ContractFleet over a contiguous slice of the city's posts). Issue 16
 * §4: 2,100 posts in one process made the generator's own event loop seconds
 * late, so it missed its own keepalives; each slice now has its own process.
 */
import type { FleetOptions, FleetStats } from './contract-fleet.js'

/** A slice's options: ContractFleet's, minus the functions (not sendable), plus the slice's credentials. */
export type SliceOptions = Omit<FleetOptions, 'credentials' | 'postName'> & {
  firstIndex: number
  /** The slice's post names, in order (post i is names[i]). */
  names: string[]
  /** Broker credentials by post name (absent: anonymous). */
  credentials?: Record<string, { username: string; password: string }>
}

export type ToChild =
  | { t: 'init'; options: SliceOptions }
  | { t: 'start'; timeoutMs: number }
  /** Raise these alerts: [slice-local post index, device] each, in order. */
  | { t: 'raise'; alerts: Array<[number, number]> }
  | { t: 'lag-start' }
  | { t: 'lag-stop' }
  | { t: 'report' }
  | { t: 'stop' }

/** The counters the run polls while the traffic runs (sent every 100 ms when they changed). */
export type LiveStats = Omit<FleetStats, 'reconnectMs' | 'lostBy'> & {
  /** When this slice's connected count last changed (this machine's Date.now()). */
  connectedChangedAt: number
}

/** What the slice holds at the end, for the run's report and its verification against the database. */
export interface SliceReport {
  pid: number
  firstIndex: number
  posts: number
  /** Every alert id this slice's posts raised, in the order raised. */
  raisedIds: string[]
  /** Alert id -> when its first send was handed to mqtt.js (Date.now()). */
  firstSent: Array<[string, number]>
  /** Ids still in a post's outbox (not acknowledged). */
  pendingIds: string[]
  stats: FleetStats
  /** Posts still holding alerts (first 50), for the diagnosis. */
  stillPending: Array<{ post: string; alerts: number; cut: boolean; refusedSubs: string[] }>
  /** A post that was cut and holds nothing (diagnosis: a healthy one to compare with). */
  healthyCut: string | null
  /** This process's event-loop delay between lag-start and lag-stop, ms, and its CPU then (% of one core). */
  lag: { p99: number; max: number; cpuPct: number }
}

export type FromChild =
  | { t: 'ready' }
  | { t: 'started' }
  | { t: 'failed'; error: string }
  | { t: 'stats'; stats: LiveStats }
  | { t: 'report'; report: SliceReport }
  | { t: 'stopped' }
