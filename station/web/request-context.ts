/** What a console route handler gets: the request, its operator (if any), the dependencies. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { Lang, StationActions, StationHealth, StationLive, StationStore } from '../station-api.js'
import type { SessionInfo } from './auth.js'
import type { HealthSnapshot } from './live-feed.js'

export interface WebClock {
  now(): number
}

export interface StationWebDeps {
  store: StationStore
  live: StationLive
  actions: StationActions
  health: StationHealth
  clock?: WebClock
  /** IANA zone the console shows times in, e.g. "Asia/Shanghai". */
  timeZone: string
  logger: Logger
  /** Session lifetime; a shift plus handover by default (12 h). */
  sessionTtlMs?: number
  /** Set the cookie's Secure flag (serve behind TLS in production). */
  secureCookie?: boolean
  /** Extra origins allowed to POST (e.g. "https://console.example"), beside the request's own Host. */
  allowedOrigins?: string[]
  /** Behind a reverse proxy: take the client's address from X-Forwarded-For (last hop). */
  trustProxy?: boolean
  /** Login throttling (per address and per user name). */
  loginLimits?: { windowMs: number; perUser: number; perAddress: number }
}

export interface RequestContext {
  req: IncomingMessage
  res: ServerResponse
  url: URL
  deps: StationWebDeps
  session: SessionInfo | null
  csrf: string | null
  lang: Lang
  from: string
  now: number
  web: { health(): HealthSnapshot }
  audit(action: string, target: string | null, detail: string | null, who?: string): Promise<void>
}
