/**
 * The console's JSON API (issue 15). Each route names the permission it needs;
 * web-server.ts checks the session (401), the role (403) and, for POST, the
 * Origin and the CSRF token before a handler runs. Handlers read the store
 * (the truth) and call StationActions, which publish and audit.
 */
import type { AlertQuery, Lang, Role, StationStore } from '../station-api.js'
import { csvCell, toCsv } from './csv.js'
import { HttpError, readJson, sendJson, sendText, str } from './http-util.js'
import { isLang } from './lang.js'
import { can, type Permission } from './permissions.js'
import type { RequestContext } from './request-context.js'

export interface Route {
  method: 'GET' | 'POST'
  path: RegExp
  /** null: the route checks for itself (login). */
  perm: Permission | null
  handler: (c: RequestContext, params: string[]) => Promise<void>
}

/** Commands an operator may send from the console (docs/protocol.md §Commands). */
const COMMANDS = new Set(['lamp-test', 'walk-test', 'silence'])
const ROLES: readonly Role[] = ['operator', 'supervisor', 'maintainer']
const QUEUE_LIMIT = 300
const HISTORY_LIMIT = 5000

function ctxOf(c: RequestContext) {
  return { operator: c.session!.operator, from: c.from }
}

function decode(s: string): string {
  try { return decodeURIComponent(s) } catch { throw new HttpError(400, 'bad_path') }
}

function historyQuery(u: URL): AlertQuery {
  const q: AlertQuery = { limit: HISTORY_LIMIT }
  for (const k of ['site', 'post', 'device', 'kind'] as const) {
    const v = u.searchParams.get(k)?.trim()
    if (v) q[k] = v.slice(0, 200)
  }
  for (const k of ['from', 'to'] as const) {
    const v = u.searchParams.get(k)
    if (v) {
      const n = Number(v)
      if (!Number.isFinite(n)) throw new HttpError(400, `bad_${k}`)
      q[k] = n
    }
  }
  const limit = Number(u.searchParams.get('limit'))
  if (Number.isInteger(limit) && limit > 0) q.limit = Math.min(limit, HISTORY_LIMIT)
  return q
}

const ALERT_CSV_HEADER = ['received_at', 'site', 'post', 'device', 'label', 'location', 'kind', 'class', 'test', 'origin_post', 'hw_time', 'ack_by', 'ack_at', 'ack_note', 'id']

function iso(ms: number | null): string {
  return ms === null ? '' : new Date(ms).toISOString()
}

function csvName(prefix: string, now: number): string {
  return `${prefix}-${new Date(now).toISOString().slice(0, 19).replace(/[:T]/g, '-')}.csv`
}

async function requireOperator(store: StationStore, name: string): Promise<void> {
  if (await store.operator(name)) throw new HttpError(409, 'operator_exists')
}

export const apiRoutes: Route[] = [
  {
    method: 'GET', path: /^\/api\/me$/, perm: 'fleet:read',
    handler: async (c) => {
      const op = c.session!.operator
      sendJson(c.res, 200, {
        name: op.name, role: op.role, lang: c.lang, timeZone: c.deps.timeZone, csrf: c.csrf,
        permissions: (['fleet:read', 'alarms:read', 'alarms:act', 'users:manage'] as Permission[]).filter((p) => can(op.role, p)),
        health: c.web.health(), serverNow: c.now,
      })
    },
  },
  {
    method: 'GET', path: /^\/api\/queue$/, perm: 'alarms:read',
    handler: async (c) => sendJson(c.res, 200, { alerts: await c.deps.store.queue(QUEUE_LIMIT) }),
  },
  {
    method: 'GET', path: /^\/api\/alerts\/([^/]+)$/, perm: 'alarms:read',
    handler: async (c, [id]) => {
      const a = await c.deps.store.alert(decode(id))
      if (!a) throw new HttpError(404, 'no_such_alert')
      sendJson(c.res, 200, { alert: a })
    },
  },
  {
    method: 'POST', path: /^\/api\/alerts\/([^/]+)\/ack$/, perm: 'alarms:act',
    handler: async (c, [id]) => {
      const body = await readJson(c.req)
      const note = str(body, 'note', 500)
      const r = await c.deps.actions.acknowledge(ctxOf(c), decode(id), note)
      if (!r.ok) throw new HttpError(409, r.error)
      sendJson(c.res, 200, { ok: true })
    },
  },
  {
    method: 'GET', path: /^\/api\/posts$/, perm: 'fleet:read',
    handler: async (c) => {
      const site = c.url.searchParams.get('site') || undefined
      const group = c.url.searchParams.get('group') || undefined
      // The list leaves out each post's retained state and walk-test report (kilobytes each,
      // megabytes for 2,100 posts); the post's own page has them.
      const posts = (await c.deps.store.posts({ site, group })).map(({ state: _s, walkTestReport: _w, ...row }) => ({ ...row, state: null, walkTestReport: null }))
      sendJson(c.res, 200, { posts })
    },
  },
  {
    method: 'GET', path: /^\/api\/posts\/([^/]+)\/([^/]+)$/, perm: 'fleet:read',
    handler: async (c, [s, p]) => {
      const site = decode(s)
      const post = decode(p)
      const row = await c.deps.store.post(site, post)
      if (!row) throw new HttpError(404, 'no_such_post')
      const devices = await c.deps.store.devices(site, post)
      const alerts = can(c.session!.operator.role, 'alarms:read') ? await c.deps.store.alerts({ site, post, limit: 50 }) : []
      sendJson(c.res, 200, { post: row, devices, alerts })
    },
  },
  {
    method: 'POST', path: /^\/api\/posts\/([^/]+)\/([^/]+)\/commands$/, perm: 'alarms:act',
    handler: async (c, [s, p]) => {
      const body = await readJson(c.req)
      const name = str(body, 'name', 40)
      if (!name || !COMMANDS.has(name)) throw new HttpError(400, 'unknown_command')
      const args = body.args !== undefined && body.args !== null && typeof body.args === 'object' && !Array.isArray(body.args) ? body.args as Record<string, unknown> : {}
      const r = await c.deps.actions.command(ctxOf(c), decode(s), decode(p), name, args)
      if (!r.ok) throw new HttpError(409, r.error)
      sendJson(c.res, 200, { ok: true, result: r.result })
    },
  },
  {
    method: 'GET', path: /^\/api\/history$/, perm: 'alarms:read',
    handler: async (c) => sendJson(c.res, 200, { alerts: await c.deps.store.alerts(historyQuery(c.url)) }),
  },
  {
    method: 'GET', path: /^\/api\/history\.csv$/, perm: 'alarms:read',
    handler: async (c) => {
      const rows = await c.deps.store.alerts(historyQuery(c.url))
      const csv = toCsv(ALERT_CSV_HEADER, rows.map((a) => [iso(a.receivedAt), a.site, a.post, a.device, a.label, a.location, a.kind, a.cls, a.test, a.originPost, iso(a.hwTime), a.ackBy, iso(a.ackAt), a.ackNote, a.id]))
      sendText(c.res, 200, csv, 'text/csv; charset=utf-8', { 'content-disposition': `attachment; filename="${csvName('alerts', c.now)}"` })
    },
  },
  {
    method: 'GET', path: /^\/api\/rollcalls$/, perm: 'alarms:read',
    handler: async (c) => sendJson(c.res, 200, { rollCalls: await c.deps.store.rollCalls(20) }),
  },
  {
    method: 'POST', path: /^\/api\/rollcalls$/, perm: 'alarms:act',
    handler: async (c) => {
      const body = await readJson(c.req)
      const deadlineS = Number(body.deadlineS)
      if (!Number.isInteger(deadlineS) || deadlineS < 5 || deadlineS > 3600) throw new HttpError(400, 'bad_deadline')
      const scope = { site: str(body, 'site', 100), group: str(body, 'group', 100) }
      const r = await c.deps.actions.startRollCall(ctxOf(c), scope, deadlineS)
      if (!r.ok) throw new HttpError(409, r.error)
      sendJson(c.res, 200, { ok: true, id: r.id })
    },
  },
  {
    method: 'GET', path: /^\/api\/rollcalls\/([^/]+)$/, perm: 'alarms:read',
    handler: async (c, [id]) => {
      const rc = await c.deps.store.rollCall(decode(id))
      if (!rc) throw new HttpError(404, 'no_such_rollcall')
      sendJson(c.res, 200, { rollCall: rc })
    },
  },
  {
    method: 'GET', path: /^\/api\/rollcalls\/([^/]+)\/csv$/, perm: 'alarms:read',
    handler: async (c, [id]) => {
      const rc = await c.deps.store.rollCall(decode(id))
      if (!rc) throw new HttpError(404, 'no_such_rollcall')
      const csv = toCsv(['rollcall', 'started_at', 'deadline', 'by', 'site', 'post', 'state', 'answered_by', 'answered_at', 'delay_s'],
        rc.entries.map((e) => [rc.id, iso(rc.startedAt), iso(rc.deadline), rc.by, e.site, e.post, e.state, e.answeredBy, iso(e.answeredAt), e.delayMs === null ? null : e.delayMs / 1000]))
      sendText(c.res, 200, csv, 'text/csv; charset=utf-8', { 'content-disposition': `attachment; filename="${csvName('rollcall', c.now)}"` })
    },
  },
  {
    method: 'GET', path: /^\/api\/rejected$/, perm: 'fleet:read',
    handler: async (c) => sendJson(c.res, 200, { rejected: await c.deps.store.rejected(200) }),
  },
  {
    method: 'GET', path: /^\/api\/health$/, perm: 'fleet:read',
    handler: async (c) => sendJson(c.res, 200, { ...c.web.health(), counters: c.deps.health.counters() }),
  },
  {
    method: 'GET', path: /^\/api\/operators$/, perm: 'users:manage',
    handler: async (c) => sendJson(c.res, 200, { operators: await c.deps.store.operators() }),
  },
  {
    method: 'POST', path: /^\/api\/operators$/, perm: 'users:manage',
    handler: async (c) => {
      const body = await readJson(c.req)
      const name = str(body, 'name', 64)
      const password = typeof body.password === 'string' ? body.password : ''
      const role = body.role as Role
      const lang: Lang | null = isLang(body.lang) ? body.lang : null
      if (!name || !/^[\p{L}\p{N}._-]{1,64}$/u.test(name)) throw new HttpError(400, 'bad_name')
      if (!ROLES.includes(role)) throw new HttpError(400, 'bad_role')
      if (password.length < 8 || password.length > 200) throw new HttpError(400, 'weak_password')
      await requireOperator(c.deps.store, name)
      await c.deps.store.addOperator(name, role, password, lang)
      await c.audit('operator-added', name, `role=${role}`)
      sendJson(c.res, 200, { ok: true })
    },
  },
  {
    method: 'GET', path: /^\/api\/audit$/, perm: 'users:manage',
    handler: async (c) => sendJson(c.res, 200, { audit: await c.deps.store.audit(300) }),
  },
]

/** Exported for tests: the formula-injection rule as applied to CSV cells. */
export { csvCell }
