/**
 * The seam between the station service's back end (ingest, store, roll call,
 * actions) and its web console (issue 15). The web layer depends only on these
 * interfaces; `station/station-service.ts` (the composition root) builds the
 * real objects and hands them to `station/web`.
 *
 * The database is the truth (DESIGN §3): every row the console shows comes
 * from a StationStore; the live feed only says "something changed, here it is"
 * and carries a sequence number so a browser that reconnects can catch up.
 */

export type Role = 'operator' | 'supervisor' | 'maintainer'
export type Lang = 'zh-CN' | 'en'

/** Alarms a person raised sort above trouble; trouble above information. */
export type AlertClass = 'alarm' | 'trouble' | 'info'

export interface AlertRow {
  id: string
  site: string
  post: string
  device: string
  deviceKind: string
  label: string | null
  location: string | null
  kind: string
  cls: AlertClass
  /** Lower is more urgent: 0 panic/duress/silent_holdup, 1 whistle/sos, 2 trouble, 3 info. */
  priority: number
  value: number | null
  rssi: number | null
  test: boolean
  /** Set when a neighbouring post relayed it (contract: origin_post). */
  originPost: string | null
  hwTime: number
  sentTime: number
  receivedAt: number
  ackBy: string | null
  ackAt: number | null
  ackNote: string | null
  /** The raw payload as received, for the detail view and CSV. */
  payload: string
}

export interface DeviceRow {
  site: string
  post: string
  device: string
  kind: string | null
  label: string | null
  location: string | null
  /** The retained device state as received (schema-valid JSON). */
  state: Record<string, unknown>
  updatedAt: number
}

export interface PostRow {
  site: string
  post: string
  postType: string | null
  group: string | null
  online: boolean
  statusSince: number | null
  lastStateAt: number | null
  lastTestReportAt: number | null
  /** Expected interval of test reports (from the post's state, default 60 s). */
  testIntervalS: number
  /** True when the last test report is older than interval + grace (EN 50136 failed path). */
  testOverdue: boolean
  devicesMissing: number
  lowBattery: number
  tamper: number
  mainsLost: number
  outboxDepth: number | null
  /** Retained gateway state as received. */
  state: Record<string, unknown> | null
  walkTestReport: Record<string, unknown> | null
}

export interface RejectedRow {
  id: number
  at: number
  topic: string
  reason: string
  /** First bytes of the payload, as text (never executed, escaped when shown). */
  excerpt: string
}

export type RollCallEntryState = 'pending' | 'answered' | 'missed' | 'offline'

export interface RollCallEntry {
  site: string
  post: string
  state: RollCallEntryState
  answeredBy: string | null
  answeredAt: number | null
  /** answeredAt - rollcall startedAt, in ms. */
  delayMs: number | null
}

export interface RollCallRow {
  id: string
  startedAt: number
  deadline: number
  by: string
  scope: { site: string | null; group: string | null }
  entries: RollCallEntry[]
}

export interface Operator {
  name: string
  role: Role
  lang: Lang | null
}

export interface AuditRow {
  id: number
  at: number
  who: string
  action: string
  target: string | null
  detail: string | null
  from: string | null
}

export interface AlertQuery {
  site?: string
  post?: string
  device?: string
  kind?: string
  from?: number
  to?: number
  unackedOnly?: boolean
  limit?: number
}

/** One interface, two implementations (SQLite, PostgreSQL), one conformance suite (DESIGN §3). */
export interface StationStore {
  readonly kind: 'sqlite' | 'postgres'
  /** Alarm queue: unacknowledged first, by priority, then age. */
  queue(limit: number): Promise<AlertRow[]>
  alerts(q: AlertQuery): Promise<AlertRow[]>
  alert(id: string): Promise<AlertRow | null>
  posts(filter?: { site?: string; group?: string }): Promise<PostRow[]>
  post(site: string, post: string): Promise<PostRow | null>
  devices(site: string, post: string): Promise<DeviceRow[]>
  rejected(limit: number): Promise<RejectedRow[]>
  rollCalls(limit: number): Promise<RollCallRow[]>
  rollCall(id: string): Promise<RollCallRow | null>
  audit(limit: number): Promise<AuditRow[]>
  addAudit(row: Omit<AuditRow, 'id'>): Promise<void>
  /** Operators: password check is done by the store's owner (scrypt hash stored, never returned). */
  operator(name: string): Promise<Operator | null>
  verifyOperator(name: string, password: string): Promise<Operator | null>
  addOperator(name: string, role: Role, password: string, lang: Lang | null): Promise<void>
  operators(): Promise<Operator[]>
  /** Sessions live in the database so several instances share them. */
  createSession(token: string, name: string, expiresAt: number): Promise<void>
  session(token: string): Promise<{ name: string; expiresAt: number } | null>
  deleteSession(token: string): Promise<void>
}

export type LiveEvent =
  | { type: 'alert'; alert: AlertRow }
  | { type: 'ack'; id: string; by: string; at: number; note: string | null }
  | { type: 'post'; site: string; post: string }
  | { type: 'rejected'; row: RejectedRow }
  | { type: 'rollcall'; id: string }
  | { type: 'db'; ok: boolean; error: string | null }

/**
 * The live feed. `seq` is per instance and monotonic; `since(seq)` returns
 * what a reconnecting browser missed (bounded; null when it is too far behind,
 * and the browser then reloads its view from the store).
 */
export interface StationLive {
  subscribe(fn: (seq: number, e: LiveEvent) => void): () => void
  since(seq: number): Array<{ seq: number; e: LiveEvent }> | null
  readonly lastSeq: number
}

export interface ActionContext {
  operator: Operator
  /** Remote address of the browser, for the audit log. */
  from: string | null
}

/** What an operator can do; each action is audited by the implementation. */
export interface StationActions {
  /** Publishes the contract's ack (with `by` = operator name) and stores it; refuses if the store is down. */
  acknowledge(ctx: ActionContext, alertId: string, note: string | null): Promise<{ ok: true } | { ok: false; error: string }>
  startRollCall(ctx: ActionContext, scope: { site: string | null; group: string | null }, deadlineS: number): Promise<{ ok: true; id: string } | { ok: false; error: string }>
  /** lamp-test, walk-test (with args) … as in docs/protocol.md §Commands. */
  command(ctx: ActionContext, site: string, post: string, name: string, args: Record<string, unknown>): Promise<{ ok: true; result: unknown } | { ok: false; error: string }>
}

/** Health the console shows loudly (issue 15 bad input: database unreachable). */
export interface StationHealth {
  dbOk(): boolean
  brokerConnected(): boolean
  counters(): Record<string, number>
}
