/**
 * The embedded broker's CONNECT decision (issue 2 §6, issue 12 §1-4, §8, §9),
 * as one step list run from aedes' authenticate hook. aedes answers a refused
 * authenticate with a CONNACK carrying our return code and closes the
 * connection ([MQTT-3.2.2-5]); a refusal from its preConnect hook is never
 * answered nor closed, so every refusal happens here.
 *
 *   1. client id rule            -> 2 identifier rejected
 *   2. max_clients (counted from here to the connection's close, so logins
 *      waiting for their check count too) -> 3 server unavailable
 *   3. anonymous                 -> 5 not authorized
 *   4. backoff (address / user)  -> 3 server unavailable, no check
 *   5. password (bounded queue)  -> 4 bad username or password, or 3 when busy
 *   6. client id owner           -> 2 identifier rejected
 *
 * Logs never carry an unknown username: it is often a password typed into
 * the wrong field (issue 12 §9). They carry a keyed fingerprint instead, so
 * repeated attempts with one name can still be told apart.
 */
import { createHmac, randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { BrokerCounters } from './broker-counters.js'
import type { LoginLimiter } from './login-limiter.js'
import type { PasswordChecker } from './password-checker.js'
import type { ClientIdOwners } from './client-rules.js'

export interface LoginAttempt {
  clientId: string
  /** From the CONNECT packet (preConnect); null when it passed. */
  idProblem: string | null
  clean: boolean
  address: string
  username: string | undefined
  password: Buffer | undefined
  /** False once the connection closed. */
  alive: () => boolean
}

export interface LoginDeps {
  counters: BrokerCounters
  log: Logger
  limiter: LoginLimiter
  checker: PasswordChecker
  owners: ClientIdOwners
  /** username -> scrypt hash, for usernames with a configured role. */
  hashOf: (username: string) => string | null | undefined
  /** Counts this connection against max_clients until it closes; false when full. */
  admit: () => boolean
  maxClients: number
}

export type LoginOutcome = { code: 0; release: () => void } | { code: 2 | 3 | 4 | 5 }

const FP_KEY = randomBytes(16)

/** A fingerprint of a name for logs: stable within one run, meaningless outside it. */
export function nameFingerprint(name: string): string {
  return createHmac('sha256', FP_KEY).update(name).digest('hex').slice(0, 8)
}

export async function decideLogin(a: LoginAttempt, d: LoginDeps): Promise<LoginOutcome> {
  const { counters, log } = d
  if (a.idProblem !== null) {
    counters.refusedClientId++
    log.warn({ remote: a.address, problem: a.idProblem }, 'broker refused a client id')
    return { code: 2 }
  }
  if (!d.admit()) {
    counters.refusedTooMany++
    log.warn({ remote: a.address, max: d.maxClients }, 'broker connection refused: too many clients')
    return { code: 3 }
  }
  if (!a.username) {
    counters.refusedAnonymous++
    log.warn({ client: a.clientId, remote: a.address }, 'broker refused an anonymous client')
    return { code: 5 }
  }
  const username = a.username
  const stored = d.hashOf(username)
  const known = stored !== undefined
  const who = { client: a.clientId, remote: a.address, user: known ? username : undefined, user_fp: known ? undefined : nameFingerprint(username) }
  const block = d.limiter.admit(a.address, username)
  if (block !== null) {
    counters.refusedBackoff++
    log.warn({ ...who, by: block }, 'broker login refused during backoff')
    return { code: 3 }
  }
  const result = await d.checker.check(a.password?.toString('utf8') ?? '', stored ?? null, d.limiter.trusted(a.address, username), a.alive)
  if (result === 'busy') {
    counters.refusedBusy++
    log.warn(who, 'broker login refused: too many logins waiting')
    return { code: 3 }
  }
  if (result !== 'ok') {
    counters.refusedBadLogin++
    d.limiter.failed(a.address, username)
    log.warn({ ...who, known }, 'broker refused a login')
    return { code: 4 }
  }
  d.limiter.succeeded(a.address, username)
  // Checked after the wait: the owner may have connected meanwhile.
  const idTaken = d.owners.problem(a.clientId, username, a.clean)
  if (idTaken !== null) {
    counters.refusedClientId++
    log.warn({ ...who, problem: idTaken }, 'broker refused a client id')
    return { code: 2 }
  }
  return { code: 0, release: d.owners.take(a.clientId, username, a.clean) }
}
