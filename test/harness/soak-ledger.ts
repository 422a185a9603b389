/**
 * The bookkeeping of a randomised fault soak (issue 11): what the test CAUSED
 * (a press, a fault raised or cleared) is expected at the station as exactly
 * one alert of that kind (and value), within a bound. After every step the
 * station's alerts must equal what was caused: every real press exactly one
 * alert, no alert without a cause, every fault within its bound, every
 * restore arrived. Latencies are kept per kind so the docs' bounds can be
 * checked against what the soak measured.
 */
export interface SoakAlert { kind: string; device: string; value: number | null; at: number }

export interface Expected { kind: string; device: string; value?: number; causedAt: number; boundMs: number; what: string }

export class SoakLedger {
  readonly expected: Expected[] = []
  /** Measured cause -> arrival, ms, by kind. */
  readonly latency = new Map<string, number[]>()
  private matched = 0

  constructor(private readonly alerts: SoakAlert[], private readonly ignore: (a: SoakAlert) => boolean = () => false) {}

  expect(e: Omit<Expected, 'causedAt'> & { causedAt?: number }): void {
    this.expected.push({ causedAt: Date.now(), ...e })
  }

  private relevant(): SoakAlert[] {
    return this.alerts.filter((a) => !this.ignore(a))
  }

  /**
   * Wait until every expected alert has arrived (each matched to one arrival, in order of
   * cause), then a settle time with nothing unexplained. Returns problems (empty = fine).
   */
  async check(settleMs: number, waitMs: number): Promise<string[]> {
    const problems: string[] = []
    const deadline = Date.now() + waitMs
    while (Date.now() < deadline && this.relevant().length < this.expected.length) await sleep(10)
    await sleep(settleMs)
    const got = this.relevant()
    const used = new Set<number>()
    for (let i = this.matched; i < this.expected.length; i++) {
      const e = this.expected[i]
      const j = got.findIndex((a, k) => !used.has(k) && k >= this.matched && a.kind === e.kind && a.device === e.device && (e.value === undefined || a.value === e.value))
      if (j < 0) { problems.push(`missing at the station: ${e.what} (${e.kind}${e.value !== undefined ? ` ${e.value}` : ''} from ${e.device})`); continue }
      used.add(j)
      const ms = got[j].at - e.causedAt
      const l = this.latency.get(e.kind) ?? []
      l.push(ms)
      this.latency.set(e.kind, l)
      if (ms > e.boundMs) problems.push(`${e.what}: ${e.kind} after ${ms} ms, bound ${e.boundMs} ms`)
    }
    for (let k = this.matched; k < got.length; k++) {
      if (!used.has(k)) problems.push(`alert without a cause: ${got[k].kind} ${got[k].value ?? ''} from ${got[k].device}`)
    }
    this.matched = got.length
    // Re-align: from here on, expectations and arrivals are counted afresh.
    this.expected.length = 0
    this.alerts.splice(0, this.alerts.length, ...this.alerts.filter((a) => this.ignore(a)))
    this.matched = 0
    return problems
  }

  summary(): string {
    return [...this.latency].map(([k, v]) => {
      const s = [...v].sort((a, b) => a - b)
      return `${k}: n=${s.length} max=${s[s.length - 1]} ms p50=${s[Math.floor(s.length / 2)]} ms`
    }).join('; ')
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Soak length: short by default (npm test), minutes with SAFEHOUSE_SOAK=long (./soak-tier.ts). */
export { soakMs } from './soak-tier.js'
