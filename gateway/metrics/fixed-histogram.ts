/**
 * A latency histogram with fixed buckets in a Float64Array, exposed to a
 * prom-client Registry as a custom metric (issue 14: "metrics stay off the hot
 * path"). prom-client's own Histogram.observe() allocates on every call (a
 * closure, a labels object and a {labels, value} pair: lib/histogram.js
 * observe() in 15.1.3); observe() here only adds numbers. The exposition
 * (cumulative buckets, _sum, _count) is built on scrape.
 */
import type { Registry } from 'prom-client'

interface Sample { metricName: string; labels: Record<string, string>; value: number }

export class FixedHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  /** counts[i]: observations <= bounds[i] and > bounds[i-1]; the last slot is +Inf. */
  private readonly counts: Float64Array
  private sum = 0
  private count = 0

  constructor(readonly name: string, readonly help: string, private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1)
  }

  /** Record one value (seconds). Non-finite or negative values (clock steps) are counted as 0. */
  observe(v: number): void {
    const x = v > 0 && Number.isFinite(v) ? v : 0
    let i = 0
    while (i < this.bounds.length && x > this.bounds[i]) i++
    this.counts[i]++
    this.sum += x
    this.count++
  }

  /** prom-client's collection interface (Registry.registerMetric + get()). */
  get(): { name: string; help: string; type: string; aggregator: string; values: Sample[] } {
    const values: Sample[] = []
    let cumulative = 0
    for (let i = 0; i <= this.bounds.length; i++) {
      cumulative += this.counts[i]
      const le = i < this.bounds.length ? String(this.bounds[i]) : '+Inf'
      values.push({ metricName: `${this.name}_bucket`, labels: { le }, value: cumulative })
    }
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sum })
    values.push({ metricName: `${this.name}_count`, labels: {}, value: this.count })
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values }
  }

  register(registry: Registry): this {
    registry.registerMetric(this as never)
    return this
  }
}
