/**
 * Operator sessions and login throttling (issue 15).
 *
 * - The session token is 256 random bits in an HttpOnly, SameSite=Strict
 *   cookie. The store keeps only its SHA-256 (a copied database holds no
 *   usable sessions); sessions live in the store so several instances share them.
 * - CSRF: a synchronizer token derived from the session token
 *   (SHA-256("csrf:" + token)), sent by the page in X-CSRF-Token on every
 *   state-changing request, plus an Origin check. Derived, not stored, so every
 *   instance can check it; unguessable without the HttpOnly cookie.
 * - Login failures are limited per address and per user name (sliding window).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Operator, StationStore } from '../station-api.js'

export const SESSION_COOKIE = 'shs_session'

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex')
}

export function newSessionToken(): string {
  return randomBytes(32).toString('base64url')
}

export function csrfFor(token: string): string {
  return createHash('sha256').update(`csrf:${token}`).digest('base64url')
}

export function csrfMatches(token: string, presented: string | undefined): boolean {
  if (!presented) return false
  const want = Buffer.from(csrfFor(token))
  const got = Buffer.from(presented)
  return want.length === got.length && timingSafeEqual(want, got)
}

export function sessionCookie(token: string, maxAgeS: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure ? '; Secure' : ''}`
}

export function clearedCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`
}

export interface SessionInfo {
  token: string
  operator: Operator
}

/** Resolves a cookie token to a live operator; an expired or deleted session is no session. */
export async function resolveSession(store: StationStore, token: string | undefined, now: number): Promise<SessionInfo | null> {
  if (!token || token.length > 100) return null
  const s = await store.session(sha256(token))
  if (!s || s.expiresAt <= now) return null
  const operator = await store.operator(s.name)
  return operator ? { token, operator } : null
}

export interface LoginLimits {
  windowMs: number
  perUser: number
  perAddress: number
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { windowMs: 15 * 60_000, perUser: 5, perAddress: 20 }

/**
 * Failures per key in a sliding window. Bounded: at most `maxKeys` keys, the
 * oldest dropped first (an attacker spraying names cannot grow memory).
 */
export class FailureLimiter {
  private readonly fails = new Map<string, number[]>()
  constructor(private readonly limit: number, private readonly windowMs: number, private readonly maxKeys = 10_000) {}

  /** Ms until the key may try again; 0 when it may now. */
  blockedFor(key: string, now: number): number {
    const list = this.prune(key, now)
    if (list.length < this.limit) return 0
    return list[0] + this.windowMs - now
  }

  fail(key: string, now: number): void {
    const list = this.prune(key, now)
    list.push(now)
    this.fails.delete(key)
    this.fails.set(key, list)
    while (this.fails.size > this.maxKeys) this.fails.delete(this.fails.keys().next().value as string)
  }

  reset(key: string): void {
    this.fails.delete(key)
  }

  private prune(key: string, now: number): number[] {
    const list = this.fails.get(key) ?? []
    while (list.length > 0 && list[0] <= now - this.windowMs) list.shift()
    return list
  }
}
