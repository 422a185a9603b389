/**
 * Login backoff for the embedded broker (issue 12 §1): failed logins are
 * counted per source address and per username, and past a free allowance
 * each further failure doubles a wait during which logins are refused at once,
 * without a password check. That keeps a guessing client from costing scrypt
 * time, and a brute force to a handful of guesses a minute.
 *
 * It must never become a way to lock out the post's own clients:
 *  - an address is only ever slowed by failures from that address (a TCP
 *    handshake cannot be forged on a LAN, so nobody can fail "as" the panel);
 *  - a username's lockout never applies to an address that user already
 *    logged in from since the gateway started (a known pair: the lamp-box
 *    panel, the local console), nor to exempt addresses (loopback by default:
 *    the CLI and screens on the Pi itself); failures from exempt addresses are
 *    not counted at all.
 * Unknown usernames are counted exactly like known ones, so the lockout does
 * not tell which names exist. Every table is bounded (oldest entry first out).
 */
import { createHash } from 'node:crypto'
import type { Clock } from '../../devices/time/clock.js'

export interface LoginLimitRules {
  /** Failures from one address before it must wait. */
  addressFreeFailures: number
  /** Failures for one username (from addresses it never logged in from) before it must wait. */
  userFreeFailures: number
  /** First wait; doubles per further failure. */
  backoffBaseMs: number
  backoffMaxMs: number
  /** A record is forgotten this long after its last failure. */
  forgetAfterMs: number
  /** Addresses never slowed and never counted (normalised, e.g. 127.0.0.1, ::1). */
  exempt: readonly string[]
  /** Bound of each table (addresses, usernames, known pairs). */
  maxEntries?: number
}

export type LoginBlock = 'address' | 'user' | null

interface FailureRecord {
  failures: number
  last: number
  until: number
}

class FailureBook {
  private readonly map = new Map<string, FailureRecord>()

  constructor(private readonly free: number, private readonly r: LoginLimitRules, private readonly max: number) {}

  blocked(key: string, now: number): boolean {
    const e = this.live(key, now)
    return e !== undefined && now < e.until
  }

  fail(key: string, now: number): void {
    const e = this.live(key, now) ?? { failures: 0, last: now, until: 0 }
    e.failures++
    e.last = now
    // The free-th failure starts the wait (1 s), each further one doubles it.
    const over = e.failures - this.free + 1
    if (over > 0) e.until = now + Math.min(this.r.backoffBaseMs * 2 ** Math.min(over - 1, 30), this.r.backoffMaxMs)
    this.map.delete(key) // re-insert: Map order is the eviction order
    this.map.set(key, e)
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string)
  }

  clear(key: string): void {
    this.map.delete(key)
  }

  private live(key: string, now: number): FailureRecord | undefined {
    const e = this.map.get(key)
    if (e !== undefined && now - e.last > this.r.forgetAfterMs) {
      this.map.delete(key)
      return undefined
    }
    return e
  }
}

/** `::ffff:10.0.0.5` (an IPv4 client on a dual-stack socket) is `10.0.0.5`. */
export function normaliseAddress(a: string | undefined): string {
  if (!a) return ''
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a
}

export class LoginLimiter {
  private readonly addresses: FailureBook
  private readonly users: FailureBook
  private readonly knownPairs = new Map<string, true>()
  private readonly exempt: Set<string>
  private readonly max: number

  constructor(private readonly clock: Clock, r: LoginLimitRules) {
    this.max = r.maxEntries ?? 4096
    this.addresses = new FailureBook(r.addressFreeFailures, r, this.max)
    this.users = new FailureBook(r.userFreeFailures, r, this.max)
    this.exempt = new Set(r.exempt.map(normaliseAddress))
  }

  /** True when this login skips the user lockout (and goes first in the check queue). */
  trusted(address: string, username: string): boolean {
    return this.exempt.has(address) || this.knownPairs.has(pairKey(address, username))
  }

  /** Why this login must be refused without a check now, or null. */
  admit(address: string, username: string): LoginBlock {
    if (this.exempt.has(address)) return null
    const now = this.clock.monotonic()
    if (this.addresses.blocked(address, now)) return 'address'
    if (!this.knownPairs.has(pairKey(address, username)) && this.users.blocked(userKey(username), now)) return 'user'
    return null
  }

  failed(address: string, username: string): void {
    if (this.exempt.has(address)) return
    const now = this.clock.monotonic()
    this.addresses.fail(address, now)
    this.users.fail(userKey(username), now)
  }

  succeeded(address: string, username: string): void {
    const k = pairKey(address, username)
    this.knownPairs.delete(k)
    this.knownPairs.set(k, true)
    if (this.knownPairs.size > this.max) this.knownPairs.delete(this.knownPairs.keys().next().value as string)
    this.users.clear(userKey(username))
  }
}

/** A username as a table key: a long one (never a configured user) by its hash, so 4096 entries stay small. */
function userKey(username: string): string {
  return username.length <= 64 ? username : createHash('sha256').update(username).digest('base64')
}

function pairKey(address: string, username: string): string {
  return `${address}\u0000${username}`
}
