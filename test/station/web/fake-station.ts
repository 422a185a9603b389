/**
 * TEST FAKE of the station seam (station/station-api.ts), in memory, for the
 * web console's unit and browser tests until (and beside) the real service.
 * Not a product component: plain-text passwords, no persistence.
 */
import type {
  ActionContext, AlertQuery, AlertRow, AuditRow, DeviceRow, Lang, LiveEvent, Operator, PostRow, RejectedRow, Role,
  RollCallRow, StationActions, StationHealth, StationLive, StationStore,
} from '../../../station/station-api.js'

export class FakeLive implements StationLive {
  private readonly subs = new Set<(seq: number, e: LiveEvent) => void>()
  private readonly ring: Array<{ seq: number; e: LiveEvent }> = []
  lastSeq = 0
  constructor(private readonly keep = 1000) {}
  subscribe(fn: (seq: number, e: LiveEvent) => void): () => void {
    this.subs.add(fn)
    return () => this.subs.delete(fn)
  }
  since(seq: number): Array<{ seq: number; e: LiveEvent }> | null {
    if (this.ring.length > 0 && seq < this.ring[0].seq - 1) return null
    return this.ring.filter((r) => r.seq > seq)
  }
  emit(e: LiveEvent): void {
    const seq = ++this.lastSeq
    this.ring.push({ seq, e })
    if (this.ring.length > this.keep) this.ring.shift()
    for (const fn of this.subs) fn(seq, e)
  }
}

let alertSeq = 0

export function makeAlert(p: Partial<AlertRow> = {}): AlertRow {
  const now = Date.now()
  alertSeq++
  return {
    id: `test-city:kiosk-001:${alertSeq}`, site: 'test-city', post: 'kiosk-001', device: 'counter-button', deviceKind: 'panic-button',
    label: 'Counter button', location: 'under the counter', kind: 'panic', cls: 'alarm', priority: 0, value: null, rssi: null,
    test: false, originPost: null, hwTime: now, sentTime: now, receivedAt: now, ackBy: null, ackAt: null, ackNote: null, payload: '{}', ...p,
  }
}

export function makePost(p: Partial<PostRow> = {}): PostRow {
  return {
    site: 'test-city', post: 'kiosk-001', postType: 'safety_house', group: 'unit-1', online: true, statusSince: Date.now(),
    lastStateAt: Date.now(), lastTestReportAt: Date.now() - 20_000, testIntervalS: 60, testOverdue: false, devicesMissing: 0,
    lowBattery: 0, tamper: 0, mainsLost: 0, outboxDepth: 0, state: {}, walkTestReport: null, ...p,
  }
}

export class FakeStore implements StationStore {
  readonly kind = 'sqlite' as const
  alertsById = new Map<string, AlertRow>()
  postsList: PostRow[] = []
  devicesList: DeviceRow[] = []
  rejectedList: RejectedRow[] = []
  rollCallList: RollCallRow[] = []
  auditList: AuditRow[] = []
  ops = new Map<string, Operator & { password: string }>()
  sessions = new Map<string, { name: string; expiresAt: number }>()
  down = false

  private check(): void {
    if (this.down) throw new Error('database unreachable (fake)')
  }
  async queue(limit: number): Promise<AlertRow[]> {
    this.check()
    return [...this.alertsById.values()].sort((a, b) => (a.ackAt === null ? 0 : 1) - (b.ackAt === null ? 0 : 1) || a.priority - b.priority || a.receivedAt - b.receivedAt).slice(0, limit)
  }
  async alerts(q: AlertQuery): Promise<AlertRow[]> {
    this.check()
    return [...this.alertsById.values()].filter((a) => (!q.site || a.site === q.site) && (!q.post || a.post === q.post) && (!q.device || a.device === q.device) &&
      (!q.kind || a.kind === q.kind) && (q.from === undefined || a.receivedAt >= q.from) && (q.to === undefined || a.receivedAt <= q.to) && (!q.unackedOnly || a.ackAt === null))
      .sort((a, b) => b.receivedAt - a.receivedAt).slice(0, q.limit ?? 1000)
  }
  async alert(id: string): Promise<AlertRow | null> { this.check(); return this.alertsById.get(id) ?? null }
  async posts(f?: { site?: string; group?: string }): Promise<PostRow[]> {
    this.check()
    return this.postsList.filter((p) => (!f?.site || p.site === f.site) && (!f?.group || p.group === f.group))
  }
  async post(site: string, post: string): Promise<PostRow | null> { this.check(); return this.postsList.find((p) => p.site === site && p.post === post) ?? null }
  async devices(site: string, post: string): Promise<DeviceRow[]> { this.check(); return this.devicesList.filter((d) => d.site === site && d.post === post) }
  async rejected(limit: number): Promise<RejectedRow[]> { this.check(); return this.rejectedList.slice(-limit).reverse() }
  async rollCalls(limit: number): Promise<RollCallRow[]> { this.check(); return this.rollCallList.slice(-limit).reverse() }
  async rollCall(id: string): Promise<RollCallRow | null> { this.check(); return this.rollCallList.find((r) => r.id === id) ?? null }
  async audit(limit: number): Promise<AuditRow[]> { this.check(); return this.auditList.slice(-limit).reverse() }
  async addAudit(row: Omit<AuditRow, 'id'>): Promise<void> { this.check(); this.auditList.push({ id: this.auditList.length + 1, ...row }) }
  async operator(name: string): Promise<Operator | null> {
    this.check()
    const o = this.ops.get(name)
    return o ? { name: o.name, role: o.role, lang: o.lang } : null
  }
  async verifyOperator(name: string, password: string): Promise<Operator | null> {
    this.check()
    const o = this.ops.get(name)
    return o && o.password === password ? { name: o.name, role: o.role, lang: o.lang } : null
  }
  async addOperator(name: string, role: Role, password: string, lang: Lang | null): Promise<void> { this.check(); this.ops.set(name, { name, role, lang, password }) }
  async operators(): Promise<Operator[]> { this.check(); return [...this.ops.values()].map(({ name, role, lang }) => ({ name, role, lang })) }
  async createSession(token: string, name: string, expiresAt: number): Promise<void> { this.check(); this.sessions.set(token, { name, expiresAt }) }
  async session(token: string): Promise<{ name: string; expiresAt: number } | null> { this.check(); return this.sessions.get(token) ?? null }
  async deleteSession(token: string): Promise<void> { this.check(); this.sessions.delete(token) }
}

export class FakeActions implements StationActions {
  commands: Array<{ by: string; site: string; post: string; name: string; args: Record<string, unknown> }> = []
  constructor(private readonly store: FakeStore, private readonly live: FakeLive) {}
  async acknowledge(ctx: ActionContext, alertId: string, note: string | null): Promise<{ ok: true } | { ok: false; error: string }> {
    if (this.store.down) return { ok: false, error: 'store_unavailable' }
    const a = this.store.alertsById.get(alertId)
    if (!a) return { ok: false, error: 'no_such_alert' }
    if (a.ackAt !== null) return { ok: true }
    const at = Date.now()
    this.store.alertsById.set(alertId, { ...a, ackBy: ctx.operator.name, ackAt: at, ackNote: note })
    await this.store.addAudit({ at, who: ctx.operator.name, action: 'ack', target: alertId, detail: note, from: ctx.from })
    this.live.emit({ type: 'ack', id: alertId, by: ctx.operator.name, at, note })
    return { ok: true }
  }
  async startRollCall(ctx: ActionContext, scope: { site: string | null; group: string | null }, deadlineS: number): Promise<{ ok: true; id: string } | { ok: false; error: string }> {
    const startedAt = Date.now()
    const posts = await this.store.posts({ site: scope.site ?? undefined, group: scope.group ?? undefined })
    const id = `rc-${this.store.rollCallList.length + 1}`
    this.store.rollCallList.push({ id, startedAt, deadline: startedAt + deadlineS * 1000, by: ctx.operator.name, scope,
      entries: posts.map((p) => ({ site: p.site, post: p.post, state: p.online ? 'pending' : 'offline', answeredBy: null, answeredAt: null, delayMs: null })) })
    await this.store.addAudit({ at: startedAt, who: ctx.operator.name, action: 'rollcall', target: id, detail: null, from: ctx.from })
    this.live.emit({ type: 'rollcall', id })
    return { ok: true, id }
  }
  async command(ctx: ActionContext, site: string, post: string, name: string, args: Record<string, unknown>): Promise<{ ok: true; result: unknown } | { ok: false; error: string }> {
    this.commands.push({ by: ctx.operator.name, site, post, name, args })
    await this.store.addAudit({ at: Date.now(), who: ctx.operator.name, action: 'command', target: `${site}/${post}`, detail: name, from: ctx.from })
    return { ok: true, result: { mode: name } }
  }
}

export class FakeHealth implements StationHealth {
  db = true
  broker = true
  dbOk(): boolean { return this.db }
  brokerConnected(): boolean { return this.broker }
  counters(): Record<string, number> { return { alerts: 0 } }
}

export function fakeStation() {
  const store = new FakeStore()
  const live = new FakeLive()
  const actions = new FakeActions(store, live)
  const health = new FakeHealth()
  return { store, live, actions, health }
}
