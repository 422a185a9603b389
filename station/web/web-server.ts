/**
 * The station's web console (issue 15): node:http serving a small plain-JS
 * page, a JSON API and a Server-Sent Events live feed. Depends only on the
 * seam in station/station-api.ts; station/station-service.ts builds it.
 *
 * Request order (deny by default): static page and strings are public; every
 * /api/ request needs a session (401) except the login itself; every POST
 * needs a same-origin Origin (403) and, with a session, the CSRF token (403);
 * then the route's permission is checked against the role (403).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { csrfFor, csrfMatches, DEFAULT_LOGIN_LIMITS, FailureLimiter, resolveSession, SESSION_COOKIE } from './auth.js'
import { apiRoutes } from './api-routes.js'
import { clientAddress, HttpError, parseCookies, sendJson } from './http-util.js'
import { negotiateLang } from './lang.js'
import { LiveFeed } from './live-feed.js'
import { can } from './permissions.js'
import type { RequestContext, StationWebDeps } from './request-context.js'
import { events, login, logout } from './session-routes.js'
import { serveStatic } from './static-files.js'

export type { StationWebDeps } from './request-context.js'

export interface StationWeb {
  listen(host: string, port: number): Promise<{ port: number }>
  close(): Promise<void>
}

function originAllowed(req: IncomingMessage, allowed: readonly string[]): boolean {
  const host = req.headers.host
  const raw = (req.headers.origin as string | undefined) ?? (req.headers.referer as string | undefined)
  if (!raw || raw === 'null') return false
  let u: URL
  try { u = new URL(raw) } catch { return false }
  if (allowed.includes(u.origin)) return true
  return host !== undefined && u.host === host
}

export function createStationWeb(deps: StationWebDeps): StationWeb {
  const log = deps.logger.child({ component: 'station-web' })
  const clock = deps.clock ?? { now: () => Date.now() }
  const limits = deps.loginLimits ?? DEFAULT_LOGIN_LIMITS
  const byUser = new FailureLimiter(limits.perUser, limits.windowMs)
  const byAddress = new FailureLimiter(limits.perAddress, limits.windowMs)
  const feed = new LiveFeed(deps.live, deps.health, log)
  const allowedOrigins = deps.allowedOrigins ?? []
  let server: Server | null = null

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console.invalid')
    const method = req.method ?? 'GET'
    const now = clock.now()
    const from = clientAddress(req, deps.trustProxy ?? false)
    const token = parseCookies(req.headers.cookie).get(SESSION_COOKIE)
    const isApi = url.pathname.startsWith('/api/')
    const session = isApi || url.pathname === '/' ? await resolveSession(deps.store, token, now) : null
    const c: RequestContext = {
      req, res, url, deps, session, from, now,
      csrf: session ? csrfFor(session.token) : null,
      lang: session?.operator.lang ?? negotiateLang(req.headers['accept-language'] as string | undefined),
      web: { health: () => feed.currentHealth() },
      audit: (action, target, detail, who) => deps.store.addAudit({ at: clock.now(), who: who ?? session?.operator.name ?? '-', action, target, detail, from }),
    }
    if (!isApi) {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'method_not_allowed')
      await serveStatic(c)
      return
    }
    if (method === 'POST' && !originAllowed(req, allowedOrigins)) throw new HttpError(403, 'bad_origin')
    if (method === 'POST' && url.pathname === '/api/login') return login(c, { byUser, byAddress, feed, log })
    if (!session) throw new HttpError(401, 'login_required')
    if (method === 'POST' && !csrfMatches(session.token, req.headers['x-csrf-token'] as string | undefined)) throw new HttpError(403, 'csrf')
    if (method === 'POST' && url.pathname === '/api/logout') return logout(c)
    if (method === 'GET' && url.pathname === '/api/events') return events(c, feed)
    for (const r of apiRoutes) {
      if (r.method !== method) continue
      const m = r.path.exec(url.pathname)
      if (!m) continue
      if (r.perm && !can(session.operator.role, r.perm)) throw new HttpError(403, 'forbidden')
      return r.handler(c, m.slice(1))
    }
    throw new HttpError(404, 'not_found')
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) { res.destroy(); return }
      if (err instanceof HttpError) { sendJson(res, err.status, { error: err.code }); return }
      // The store threw: the database is the truth, so say it is unreachable rather than guess.
      log.error({ err, path: req.url }, 'console request failed')
      sendJson(res, 503, { error: 'store_unavailable' })
    })
  }

  return {
    async listen(host, port) {
      server = createServer(onRequest)
      server.keepAliveTimeout = 65_000
      feed.start()
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject)
        server!.listen(port, host, () => { server!.off('error', reject); resolve() })
      })
      const addr = server.address()
      const bound = typeof addr === 'object' && addr ? addr.port : port
      log.info({ host, port: bound }, 'station console listening')
      return { port: bound }
    },
    async close() {
      feed.stop()
      const s = server
      server = null
      if (!s) return
      await new Promise<void>((resolve) => {
        s.close(() => resolve())
        s.closeAllConnections()
      })
    },
  }
}
