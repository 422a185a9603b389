/**
 * The station store over SqlDb: the same statements on SQLite and PostgreSQL
 * (DESIGN §3: one interface, two implementations, one conformance suite).
 * Idempotent by alert id: INSERT … ON CONFLICT DO NOTHING, so a redelivery or
 * a second instance never makes a second row; an id that comes back with
 * different content is reported as a conflict (ingest rejects and counts it).
 */
import type { AlertQuery, AlertRow, AuditRow, DeviceRow, Lang, Operator, PostRow, RejectedRow, Role, RollCallEntryState, RollCallRow } from '../station-api.js'
import type { SqlDb, SqlValue } from './sql-db.js'
import type { AckResult, AlertInsert, AlertInsertResult, StationDb } from './station-db.js'
import { migrate } from './migrate.js'
import { toAlert, toAudit, toDevice, toOperator, toPost, toRejected } from './row-mappers.js'
import { hashOperatorPassword, verifyOperatorPassword } from './operator-password.js'
import { sameContent } from './same-content.js'
import { readRollCall, readRollCalls } from './rollcall-rows.js'
import { readFleet, type FleetSummary } from './fleet-summary.js'

export interface SqlStoreOptions {
  now?: () => number
  /** Seconds of slack after a test report's interval before the post shows overdue. */
  testReportGraceS?: number
  /** scrypt N for new operator passwords (tests use a small one). */
  scryptN?: number
}

const POST_SELECT = `SELECT p.*, d.d_missing, d.d_low, d.d_tamper, d.d_mains FROM posts p LEFT JOIN (
  SELECT site, post, SUM(missing) AS d_missing, SUM(low_battery) AS d_low, SUM(tamper) AS d_tamper, SUM(mains_lost) AS d_mains
  FROM devices GROUP BY site, post) d ON d.site = p.site AND d.post = p.post`

const LOW_BATTERY_PERCENT = 20

/** PostgreSQL TEXT cannot hold NUL; both engines store U+FFFD instead, so they agree. */
const clean = (v: string | null): string | null => (v === null ? null : v.replaceAll('\u0000', '\ufffd'))

export class SqlStore implements StationDb {
  readonly kind: 'sqlite' | 'postgres'
  private readonly now: () => number
  private readonly graceS: number

  private constructor(private readonly db: SqlDb, private readonly o: SqlStoreOptions) {
    this.kind = db.kind
    this.now = o.now ?? Date.now
    this.graceS = o.testReportGraceS ?? 30
  }

  /** Runs the migrations, then returns the store. */
  static async open(db: SqlDb, o: SqlStoreOptions = {}): Promise<SqlStore> {
    await migrate(db)
    return new SqlStore(db, o)
  }

  async ping(): Promise<void> {
    await this.db.all('SELECT 1 AS one')
  }

  // ---- alerts ----
  async insertAlert(a: AlertInsert): Promise<AlertInsertResult> {
    return (await this.insertAlerts([a]))[0]
  }

  /**
   * One multi-row INSERT … ON CONFLICT DO NOTHING RETURNING id for a burst (one round trip on
   * PostgreSQL); the ids not returned already existed and are compared with what is stored.
   */
  async insertAlerts(list: readonly AlertInsert[]): Promise<AlertInsertResult[]> {
    if (!list.length) return []
    const cols = 18
    const args: SqlValue[] = []
    for (const a of list) {
      args.push(a.id, a.site, a.post, a.device, a.deviceKind, clean(a.label), clean(a.location), a.kind, a.cls, a.priority, a.value, a.rssi, a.test ? 1 : 0, a.originPost, a.hwTime, a.sentTime, a.receivedAt, a.payload)
    }
    const row = `(${Array(cols).fill('?').join(', ')})`
    const rows = await this.db.all(
      `INSERT INTO alerts (id, site, post, device, device_kind, label, location, kind, cls, priority, value, rssi, test, origin_post, hw_time, sent_time, received_at, payload)
       VALUES ${list.map(() => row).join(', ')} ON CONFLICT (id) DO NOTHING RETURNING id`,
      args,
    )
    const inserted = new Set(rows.map((r) => String(r.id)))
    const out: AlertInsertResult[] = []
    const seen = new Set<string>()
    for (const a of list) {
      // The same id twice in one burst: the first is stored, the second compared with it.
      if (inserted.has(a.id) && !seen.has(a.id)) {
        seen.add(a.id)
        out.push('stored')
        continue
      }
      const prev = await this.db.all('SELECT payload FROM alerts WHERE id = ?', [a.id])
      out.push(prev.length && sameContent(String(prev[0].payload), a.payload) ? 'duplicate' : 'conflict')
    }
    return out
  }

  async queue(limit: number): Promise<AlertRow[]> {
    // Unacknowledged first (ack_at IS NULL sorts first through the CASE), then priority, then oldest first.
    const rows = await this.db.all(
      'SELECT * FROM alerts ORDER BY CASE WHEN ack_at IS NULL THEN 0 ELSE 1 END, priority, CASE WHEN ack_at IS NULL THEN received_at ELSE -ack_at END LIMIT ?',
      [limit],
    )
    return rows.map(toAlert)
  }

  async alerts(q: AlertQuery): Promise<AlertRow[]> {
    const where: string[] = []
    const args: SqlValue[] = []
    const eq = (col: string, v: string | undefined) => { if (v !== undefined) { where.push(`${col} = ?`); args.push(v) } }
    eq('site', q.site); eq('post', q.post); eq('device', q.device); eq('kind', q.kind)
    if (q.from !== undefined) { where.push('received_at >= ?'); args.push(q.from) }
    if (q.to !== undefined) { where.push('received_at < ?'); args.push(q.to) }
    if (q.unackedOnly) where.push('ack_at IS NULL')
    args.push(Math.min(Math.max(q.limit ?? 500, 1), 10_000))
    const rows = await this.db.all(`SELECT * FROM alerts ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY received_at DESC, id LIMIT ?`, args)
    return rows.map(toAlert)
  }

  async acknowledgedSince(from: number, limit: number): Promise<AlertRow[]> {
    const rows = await this.db.all('SELECT * FROM alerts WHERE ack_at >= ? ORDER BY ack_at DESC, id LIMIT ?', [from, Math.min(Math.max(limit, 1), 10_000)])
    return rows.map(toAlert)
  }

  async alert(id: string): Promise<AlertRow | null> {
    const rows = await this.db.all('SELECT * FROM alerts WHERE id = ?', [id])
    return rows.length ? toAlert(rows[0]) : null
  }

  async acknowledge(id: string, by: string, at: number, note: string | null): Promise<AckResult> {
    const n = await this.db.run('UPDATE alerts SET ack_by = ?, ack_at = ?, ack_note = ? WHERE id = ? AND ack_at IS NULL', [by, at, note, id])
    if (n === 1) return 'acked'
    return (await this.db.all('SELECT 1 AS one FROM alerts WHERE id = ?', [id])).length ? 'already' : 'unknown'
  }

  // ---- posts and devices (latest values from retained payloads) ----
  private async ensurePost(site: string, post: string): Promise<void> {
    await this.db.run('INSERT INTO posts (site, post) VALUES (?, ?) ON CONFLICT (site, post) DO NOTHING', [site, post])
  }

  async setStatus(site: string, post: string, online: boolean, since: number | null, at: number): Promise<void> {
    await this.ensurePost(site, post)
    await this.db.run('UPDATE posts SET online = ?, status_since = ?, status_at = ? WHERE site = ? AND post = ?', [online ? 1 : 0, since ?? at, at, site, post])
  }

  async setGatewayState(site: string, post: string, state: Record<string, unknown>, at: number): Promise<void> {
    await this.ensurePost(site, post)
    const outbox = (state.outbox as { depth?: unknown } | undefined)?.depth
    await this.db.run('UPDATE posts SET state = ?, last_state_at = ?, post_type = ?, grp = ?, outbox_depth = ? WHERE site = ? AND post = ?', [
      JSON.stringify(state), at, typeof state.post_type === 'string' ? state.post_type : null, typeof state.group === 'string' ? state.group : null,
      typeof outbox === 'number' ? outbox : null, site, post,
    ])
  }

  async setDeviceState(site: string, post: string, device: string, s: Record<string, unknown>, at: number): Promise<void> {
    await this.setDeviceStates([{ site, post, device, state: s }], at)
  }

  async setDeviceStates(list: ReadonlyArray<{ site: string; post: string; device: string; state: Record<string, unknown> }>, at: number): Promise<void> {
    // PostgreSQL refuses to update one row twice in a statement: keep the last value per device.
    const byKey = new Map<string, (typeof list)[number]>()
    for (const d of list) byKey.set(`${d.site}/${d.post}/${d.device}`, d)
    if (!byKey.size) return
    const args: SqlValue[] = []
    const str = (v: unknown) => (typeof v === 'string' ? v : null)
    for (const { site, post, device, state: s } of byKey.values()) {
      const faults = Array.isArray(s.faults) ? (s.faults as unknown[]) : []
      const battery = typeof s.battery === 'number' ? s.battery : null
      args.push(site, post, device, str(s.device_kind), clean(str(s.label)), clean(str(s.location)), JSON.stringify(s),
        s.status === 'missing' || s.status === 'offline' ? 1 : 0,
        (battery !== null && battery < LOW_BATTERY_PERCENT) || faults.includes('low_battery') ? 1 : 0,
        faults.includes('tamper') ? 1 : 0, faults.includes('mains_lost') ? 1 : 0, at)
    }
    const row = `(${Array(12).fill('?').join(', ')})`
    await this.db.run(
      `INSERT INTO devices (site, post, device, kind, label, location, state, missing, low_battery, tamper, mains_lost, updated_at) VALUES ${Array(byKey.size).fill(row).join(', ')}
       ON CONFLICT (site, post, device) DO UPDATE SET kind = excluded.kind, label = excluded.label, location = excluded.location, state = excluded.state,
       missing = excluded.missing, low_battery = excluded.low_battery, tamper = excluded.tamper, mains_lost = excluded.mains_lost, updated_at = excluded.updated_at`,
      args,
    )
  }

  async setTestReport(site: string, post: string, intervalS: number, outboxDepth: number, at: number): Promise<void> {
    await this.ensurePost(site, post)
    await this.db.run('UPDATE posts SET last_test_report_at = ?, test_interval_s = ?, outbox_depth = ? WHERE site = ? AND post = ?', [at, intervalS, outboxDepth, site, post])
  }

  async setWalkTestReport(site: string, post: string, report: Record<string, unknown>, at: number): Promise<void> {
    void at
    await this.ensurePost(site, post)
    await this.db.run('UPDATE posts SET walk_test_report = ? WHERE site = ? AND post = ?', [JSON.stringify(report), site, post])
  }

  async knownPosts(): Promise<Array<{ site: string; post: string }>> {
    const rows = await this.db.all('SELECT site, post FROM posts WHERE status_at IS NOT NULL OR last_state_at IS NOT NULL')
    return rows.map((r) => ({ site: String(r.site), post: String(r.post) }))
  }

  async posts(filter: { site?: string; group?: string } = {}): Promise<PostRow[]> {
    const where: string[] = []
    const args: SqlValue[] = []
    if (filter.site !== undefined) { where.push('p.site = ?'); args.push(filter.site) }
    if (filter.group !== undefined) { where.push('p.grp = ?'); args.push(filter.group) }
    const rows = await this.db.all(`${POST_SELECT} ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY p.site, p.post`, args)
    const now = this.now()
    return rows.map((r) => toPost(r, now, this.graceS))
  }

  /** The fleet's figures for /metrics (fleet-summary.ts). */
  fleet(): Promise<FleetSummary> { return readFleet(this.db, this.now(), this.graceS) }

  async post(site: string, post: string): Promise<PostRow | null> {
    const rows = await this.db.all(`${POST_SELECT} WHERE p.site = ? AND p.post = ?`, [site, post])
    return rows.length ? toPost(rows[0], this.now(), this.graceS) : null
  }

  async devices(site: string, post: string): Promise<DeviceRow[]> {
    return (await this.db.all('SELECT * FROM devices WHERE site = ? AND post = ? ORDER BY device', [site, post])).map(toDevice)
  }

  // ---- rejected input ----
  async addRejected(row: Omit<RejectedRow, 'id'>): Promise<RejectedRow> {
    const rows = await this.db.all('INSERT INTO rejected (at, topic, reason, excerpt) VALUES (?, ?, ?, ?) RETURNING id', [row.at, clean(row.topic), clean(row.reason), clean(row.excerpt)])
    return { id: Number(rows[0].id), at: row.at, topic: clean(row.topic) as string, reason: clean(row.reason) as string, excerpt: clean(row.excerpt) as string }
  }

  async rejected(limit: number): Promise<RejectedRow[]> {
    return (await this.db.all('SELECT * FROM rejected ORDER BY id DESC LIMIT ?', [limit])).map(toRejected)
  }

  async rejectedCount(): Promise<number> {
    return Number((await this.db.all('SELECT COUNT(*) AS n FROM rejected'))[0].n)
  }

  // ---- audit ----
  async audit(limit: number): Promise<AuditRow[]> {
    return (await this.db.all('SELECT * FROM audit ORDER BY id DESC LIMIT ?', [limit])).map(toAudit)
  }

  async addAudit(r: Omit<AuditRow, 'id'>): Promise<void> {
    await this.db.run('INSERT INTO audit (at, who, action, target, detail, from_addr) VALUES (?, ?, ?, ?, ?, ?)', [r.at, r.who, r.action, r.target, r.detail, r.from])
  }

  // ---- operators and sessions ----
  async operator(name: string): Promise<Operator | null> {
    const rows = await this.db.all('SELECT name, role, lang FROM operators WHERE name = ?', [name])
    return rows.length ? toOperator(rows[0]) : null
  }

  async verifyOperator(name: string, password: string): Promise<Operator | null> {
    const rows = await this.db.all('SELECT name, role, lang, password_hash FROM operators WHERE name = ?', [name])
    if (!rows.length) return null
    return (await verifyOperatorPassword(password, String(rows[0].password_hash))) ? toOperator(rows[0]) : null
  }

  /** Adds the operator, or replaces role, password and language of an existing one. */
  async addOperator(name: string, role: Role, password: string, lang: Lang | null): Promise<void> {
    const hash = await hashOperatorPassword(password, this.o.scryptN)
    await this.db.run(
      `INSERT INTO operators (name, role, lang, password_hash, created_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET role = excluded.role, lang = excluded.lang, password_hash = excluded.password_hash`,
      [name, role, lang, hash, this.now()],
    )
  }

  async operators(): Promise<Operator[]> {
    return (await this.db.all('SELECT name, role, lang FROM operators ORDER BY name')).map(toOperator)
  }

  async createSession(token: string, name: string, expiresAt: number): Promise<void> {
    await this.db.run('INSERT INTO sessions (token, name, expires_at) VALUES (?, ?, ?)', [token, name, expiresAt])
  }

  async session(token: string): Promise<{ name: string; expiresAt: number } | null> {
    const rows = await this.db.all('SELECT name, expires_at FROM sessions WHERE token = ?', [token])
    if (!rows.length) return null
    const expiresAt = Number(rows[0].expires_at)
    if (expiresAt <= this.now()) {
      await this.deleteSession(token)
      return null
    }
    return { name: String(rows[0].name), expiresAt }
  }

  async deleteSession(token: string): Promise<void> {
    await this.db.run('DELETE FROM sessions WHERE token = ?', [token])
  }

  // ---- roll calls ----
  async createRollCall(rc: RollCallRow): Promise<void> {
    await this.db.tx(async (tx) => {
      await tx.run('INSERT INTO roll_calls (id, started_at, deadline, by_name, scope_site, scope_group) VALUES (?, ?, ?, ?, ?, ?)', [rc.id, rc.startedAt, rc.deadline, rc.by, rc.scope.site, rc.scope.group])
      for (const e of rc.entries) {
        await tx.run('INSERT INTO roll_call_entries (roll_call, site, post, state, answered_by, answered_at) VALUES (?, ?, ?, ?, ?, ?)', [rc.id, e.site, e.post, e.state, e.answeredBy, e.answeredAt])
      }
    })
  }

  async setRollCallEntry(id: string, site: string, post: string, state: RollCallEntryState, by: string | null, at: number | null): Promise<void> {
    await this.db.run('UPDATE roll_call_entries SET state = ?, answered_by = ?, answered_at = ? WHERE roll_call = ? AND site = ? AND post = ?', [state, by, at, id, site, post])
  }

  rollCalls(limit: number): Promise<RollCallRow[]> { return readRollCalls(this.db, limit) }
  rollCall(id: string): Promise<RollCallRow | null> { return readRollCall(this.db, id) }

  async close(): Promise<void> {
    await this.db.close()
  }
}
