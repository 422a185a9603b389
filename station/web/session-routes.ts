/**
 * Login, logout and the live stream (issue 15). Every login, success or
 * failure (and a throttled attempt), is audited with who, when and from where.
 */
import type { Logger } from 'pino'
import { clearedCookie, csrfFor, FailureLimiter, newSessionToken, resolveSession, sessionCookie, sha256 } from './auth.js'
import { HttpError, readJson, sendJson, str } from './http-util.js'
import type { LiveFeed } from './live-feed.js'
import { can } from './permissions.js'
import type { RequestContext } from './request-context.js'

export interface LoginDeps {
  byUser: FailureLimiter
  byAddress: FailureLimiter
  feed: LiveFeed
  log: Logger
}

export async function login(c: RequestContext, d: LoginDeps): Promise<void> {
  const body = await readJson(c.req)
  const name = str(body, 'name', 64)
  const password = typeof body.password === 'string' && body.password.length <= 200 ? body.password : ''
  if (!name || !password) throw new HttpError(400, 'name_and_password_required')
  const userKey = name.toLowerCase()
  const wait = Math.max(d.byUser.blockedFor(userKey, c.now), d.byAddress.blockedFor(c.from, c.now))
  if (wait > 0) {
    await c.audit('login-throttled', name, null, name)
    d.log.warn({ name, from: c.from }, 'login throttled')
    sendJson(c.res, 429, { error: 'too_many_attempts', retryAfterS: Math.ceil(wait / 1000) }, { 'retry-after': String(Math.ceil(wait / 1000)) })
    return
  }
  const op = await c.deps.store.verifyOperator(name, password)
  if (!op) {
    d.byUser.fail(userKey, c.now)
    d.byAddress.fail(c.from, c.now)
    await c.audit('login-failed', name, null, name)
    d.log.info({ name, from: c.from }, 'login failed')
    throw new HttpError(401, 'bad_credentials')
  }
  d.byUser.reset(userKey)
  const token = newSessionToken()
  const ttl = c.deps.sessionTtlMs ?? 12 * 3600_000
  await c.deps.store.createSession(sha256(token), op.name, c.now + ttl)
  await c.audit('login', op.name, null, op.name)
  d.log.info({ name: op.name, from: c.from }, 'operator logged in')
  sendJson(c.res, 200, { ok: true, name: op.name, role: op.role, csrf: csrfFor(token) }, {
    'set-cookie': sessionCookie(token, Math.floor(ttl / 1000), c.deps.secureCookie ?? false),
  })
}

export async function logout(c: RequestContext): Promise<void> {
  if (c.session) {
    await c.deps.store.deleteSession(sha256(c.session.token))
    await c.audit('logout', c.session.operator.name, null)
  }
  sendJson(c.res, 200, { ok: true }, { 'set-cookie': clearedCookie(c.deps.secureCookie ?? false) })
}

export function events(c: RequestContext, feed: LiveFeed): void {
  const s = c.session!
  const store = c.deps.store
  const clock = c.deps.clock ?? { now: () => Date.now() }
  feed.open(c.req, c.res, can(s.operator.role, 'alarms:read'), async () => (await resolveSession(store, s.token, clock.now())) !== null, c.url.searchParams.get('last'))
}
