/**
 * Password checks for the embedded broker, kept from competing with the alarm
 * path (issue 12 §1). node:crypto's async scrypt runs on the libuv threadpool
 * (4 threads by default), which the outbox's fs writes and the uplink's DNS
 * lookups also use: 500 concurrent bad logins queued 500 scrypts ahead of
 * them and station delivery went from 65 ms to 30 s. So at most
 * `concurrency` checks run at a time (default 1: three pool threads stay
 * free), waiting logins queue in two bounded lanes (trusted logins first), and
 * a login that would wait beyond the bound, or waited past its deadline, is
 * answered "server unavailable" at once without a check. Checks also keep
 * to half of one core: after one took d ms, the next starts d ms later at the
 * earliest (a Pi's cores belong to the alarm path first; on a loaded 2-core
 * machine back-to-back checks slowed delivery through CPU contention alone,
 * bench/login-flood.ts). A post's few dozen clients still log in within
 * seconds of a restart.
 *
 * Equal cost for unknown users (issue 12 §2): an unknown username is checked
 * against a decoy hash made with the same scrypt parameters as the configured
 * users' hashes, so a refusal takes as long either way.
 */
import { hashPassword, verifyPassword } from '../config/password-hash.js'

export type CheckResult = 'ok' | 'bad' | 'busy'

export interface PasswordCheckerOptions {
  concurrency: number
  /** Logins waiting per lane beyond which new ones are refused as busy. */
  queueLimit: number
  /** A login that waited longer than this is refused as busy when its turn comes (ms). */
  deadlineMs: number
  now: () => number
}

interface Job {
  /** False once the client hung up: its check is skipped (a connect-and-close flood costs no scrypt). */
  alive: () => boolean
  password: string
  /** null: an unknown user, checked against the decoy. */
  stored: string | null
  queuedAt: number
  resolve: (r: CheckResult) => void
}

export class PasswordChecker {
  private running = 0
  private readonly trusted: Job[] = []
  private readonly others: Job[] = []
  /** The decoy hash, being made (prepare) or made; a check of an unknown user waits for it. */
  private decoy: Promise<string> = Promise.resolve('')
  /** Earliest time (o.now) the next check may start. */
  private nextAt = 0
  private timer: NodeJS.Timeout | null = null
  /** Checks run, and logins answered busy (queue full or deadline passed). */
  readonly stats = { checked: 0, busy: 0, maxRunning: 0, checkMs: 0 }

  constructor(private readonly o: PasswordCheckerOptions) {}

  /**
   * Build the decoy from the most common parameter set among the stored hashes
   * (ties: the costliest), so an unknown user costs what a typical user costs.
   */
  prepare(stored: readonly string[]): Promise<void> {
    const counts = new Map<string, number>()
    for (const s of stored) {
      const p = typeof s === 'string' ? s.split('$') : []
      if (p.length !== 6 || p[0] !== 'scrypt') continue
      const key = `${p[1]}$${p[2]}$${p[3]}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    let best = '16384$8$1'
    let bestCount = 0
    for (const [k, n] of counts) {
      if (n > bestCount || (n === bestCount && cost(k) > cost(best))) [best, bestCount] = [k, n]
    }
    const [N, r, p] = best.split('$').map(Number)
    // Not awaited by the broker's start (issue 13 §5: it listens meanwhile); an unknown user's check
    // in the first ~0.1 s after start waits for it, so it costs the decoy's make on top, once.
    this.decoy = hashPassword('not-a-user', N, r, p).catch(() => hashPassword('not-a-user')).catch(() => '')
    return this.decoy.then(noop)
  }

  /** Check `password` against `stored`, or against the decoy when stored is null (unknown user). */
  check(password: string, stored: string | null, trusted: boolean, alive: () => boolean = () => true): Promise<CheckResult> {
    const lane = trusted ? this.trusted : this.others
    if (lane.length >= this.o.queueLimit) {
      this.stats.busy++
      return Promise.resolve('busy')
    }
    return new Promise<CheckResult>((resolve) => {
      lane.push({ alive, password, stored, queuedAt: this.o.now(), resolve: stored === null ? (r) => resolve(r === 'busy' ? 'busy' : 'bad') : resolve })
      this.pump()
    })
  }

  get waiting(): number {
    return this.trusted.length + this.others.length
  }

  private pump(): void {
    while (this.running < this.o.concurrency) {
      if (this.trusted.length + this.others.length === 0) return
      const wait = this.nextAt - this.o.now()
      if (wait > 0) {
        this.timer ??= setTimeout(() => { this.timer = null; this.pump() }, Math.ceil(wait))
        return
      }
      const job = this.trusted.shift() ?? this.others.shift()!
      if (!job.alive() || this.o.now() - job.queuedAt > this.o.deadlineMs) {
        this.stats.busy++
        job.resolve('busy')
        continue
      }
      this.run(job)
    }
  }

  private run(job: Job): void {
    this.running++
    this.stats.maxRunning = Math.max(this.stats.maxRunning, this.running)
    this.stats.checked++
    const started = this.o.now()
    const done = (r: CheckResult): void => {
      this.running--
      this.stats.checkMs += this.o.now() - started
      // Half a core at most: wait as long as this one took.
      this.nextAt = Math.max(this.nextAt, this.o.now() + (this.o.now() - started))
      job.resolve(r)
      this.pump()
    }
    const stored = job.stored === null ? this.decoy : Promise.resolve(job.stored)
    stored.then((h) => verifyPassword(job.password, h)).then((ok) => done(ok ? 'ok' : 'bad'), () => done('bad'))
  }

  /** Stop the pacing timer (broker stop). Waiting logins are answered busy. */
  close(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    for (const j of [...this.trusted.splice(0), ...this.others.splice(0)]) j.resolve('busy')
  }
}

function noop(): void {}

function cost(params: string): number {
  const [N, r, p] = params.split('$').map(Number)
  return N * r * p
}
