/**
 * The station service's Prometheus metrics (issue 14 item 1: "the station
 * service exposes fleet gauges the same way" as the gateway). Read at scrape
 * time: text() takes ONE fleet summary from the store (store/fleet-summary.ts:
 * bounded by the number of posts, no alert rows) and the in-memory health,
 * then prom-client's collect() callbacks copy them into the gauges. Nothing is
 * done per message.
 *
 * Names follow Prometheus' conventions: `safehouse_station_` prefix, base
 * units (seconds), `_total` on counters. Labels: `state`, `class`, and
 * `site`/`post` per post (a fleet of 2,100 posts is 4,200 series); never an
 * alert id. Label values are escaped by prom-client's exposition. Counter
 * names come from the code, but one that is not a valid metric name is
 * rewritten (invalid characters to `_`) rather than breaking the exposition.
 */
import { Counter, Gauge, Registry } from 'prom-client'
import type { StationHealth } from '../station-api.js'
import type { FleetSummary } from '../store/fleet-summary.js'
import { STATION_COUNTER_HELP, STATION_LEVELS } from './station-counter-help.js'

export interface StationMetricsSource {
  /** The fleet summary; may reject (database down). */
  fleet(): Promise<FleetSummary>
  health: StationHealth
  now(): number
  startedAt: number
}

/** A scrape must answer even when PostgreSQL hangs: after this the database counts as down for this scrape. */
const FLEET_TIMEOUT_MS = 5_000

export const counterMetricName = (name: string): string => `safehouse_station_${name.replace(/[^a-zA-Z0-9_]/g, '_')}_total`

export class StationMetrics {
  readonly registry = new Registry()
  /** The summary of the scrape in progress; null when the store did not answer. */
  private fleet: FleetSummary | null = null
  private counters: Record<string, number> = {}
  private last: Promise<unknown> = Promise.resolve()

  constructor(private readonly src: StationMetricsSource, private readonly fleetTimeoutMs = FLEET_TIMEOUT_MS) {
    this.fleetGauges()
    this.serviceGauges()
  }

  /**
   * The exposition text (GET /metrics): one store read, then every collect()
   * from it. Scrapes run one after another, so two at once never mix their
   * summaries nor put two queries on the database.
   */
  text(): Promise<string> {
    const run = this.last.then(() => this.scrape())
    this.last = run.catch(() => {})
    return run
  }

  private async scrape(): Promise<string> {
    this.fleet = await this.readFleet()
    this.counters = this.src.health.counters()
    this.counterMetrics()
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }

  private async readFleet(): Promise<FleetSummary | null> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<null>((r) => { timer = setTimeout(() => r(null), this.fleetTimeoutMs) })
    try {
      return await Promise.race([this.src.fleet(), timeout])
    } catch {
      return null
    } finally {
      clearTimeout(timer)
    }
  }

  /** A gauge set from the fleet summary; absent (no sample) while the store does not answer. */
  private fleetGauge(name: string, help: string, labelNames: string[], fill: (g: Gauge, f: FleetSummary) => void): void {
    const self = this
    new Gauge({
      name, help, labelNames, registers: [this.registry],
      collect() {
        this.reset()
        if (self.fleet) fill(this, self.fleet)
      },
    })
  }

  private fleetGauges(): void {
    const sum = (f: FleetSummary, v: (p: FleetSummary['posts'][number]) => number) => f.posts.reduce((n, p) => n + v(p), 0)
    this.fleetGauge('safehouse_station_posts', 'Posts known to the station, by their last retained status (online or offline).', ['state'], (g, f) => {
      const online = sum(f, (p) => (p.online ? 1 : 0))
      g.set({ state: 'online' }, online)
      g.set({ state: 'offline' }, f.posts.length - online)
    })
    this.fleetGauge('safehouse_station_posts_test_overdue', 'Posts whose last test report is older than its interval plus test_report_grace_s (EN 50136 path failure).', [], (g, f) => g.set(sum(f, (p) => (p.testOverdue ? 1 : 0))))
    this.fleetGauge('safehouse_station_alerts_unacknowledged', 'Alerts not yet acknowledged by an operator, by class (alarm, trouble, info).', ['class'], (g, f) => {
      for (const [cls, n] of Object.entries(f.unacked)) g.set({ class: cls }, n)
    })
    this.fleetGauge('safehouse_station_oldest_unacknowledged_age_seconds', 'Age of the oldest unacknowledged alert, from its receipt (0 when none).', [], (g, f) => {
      g.set(f.oldestUnackedAt === null ? 0 : Math.max(0, (this.src.now() - f.oldestUnackedAt) / 1000))
    })
    this.fleetGauge('safehouse_station_devices_missing', 'Devices, over all posts, whose status is missing or offline.', [], (g, f) => g.set(sum(f, (p) => p.devicesMissing)))
    this.fleetGauge('safehouse_station_devices_low_battery', 'Devices, over all posts, with a battery under 20 % or a low_battery fault.', [], (g, f) => g.set(sum(f, (p) => p.lowBattery)))
    this.fleetGauge('safehouse_station_post_online', '1 while the post\'s retained status is online.', ['site', 'post'], (g, f) => {
      for (const p of f.posts) g.set({ site: p.site, post: p.post }, p.online ? 1 : 0)
    })
    this.fleetGauge('safehouse_station_post_test_overdue', '1 while the post\'s test report is overdue.', ['site', 'post'], (g, f) => {
      for (const p of f.posts) g.set({ site: p.site, post: p.post }, p.testOverdue ? 1 : 0)
    })
  }

  private serviceGauges(): void {
    const self = this
    const r = this.registry
    const { health } = this.src
    new Gauge({
      name: 'safehouse_station_db_up', help: '1 when the database answered this scrape\'s query and the last write succeeded.', registers: [r],
      collect() { this.set(self.fleet !== null && health.dbOk() ? 1 : 0) },
    })
    new Gauge({
      name: 'safehouse_station_broker_connected', help: '1 while the service is connected to the station broker.', registers: [r],
      collect() { this.set(health.brokerConnected() ? 1 : 0) },
    })
    new Gauge({
      name: 'safehouse_station_start_time_seconds', help: 'When the station service started (Unix time).', registers: [r],
      collect() { this.set(self.src.startedAt / 1000) },
    })
    for (const [key, [name, help]] of Object.entries(STATION_LEVELS)) {
      new Gauge({ name, help, registers: [r], collect() { this.set(self.counters[key] ?? 0) } })
    }
  }

  /**
   * Counters appear in StationHealth.counters() when first incremented, so each
   * is registered the first time a scrape sees it (then stays, as Prometheus
   * expects of a counter).
   */
  private counterMetrics(): void {
    for (const key of Object.keys(this.counters)) {
      if (key in STATION_LEVELS) continue
      const name = counterMetricName(key)
      if (this.registry.getSingleMetric(name)) continue
      const self = this
      new Counter({
        name, help: STATION_COUNTER_HELP[key] ?? `The station's ingest counter ${key}.`, registers: [this.registry],
        collect() {
          this.reset()
          const v = self.counters[key]
          if (Number.isFinite(v) && v > 0) this.inc(v)
        },
      })
    }
  }
}
