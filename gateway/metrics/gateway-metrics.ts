/**
 * The gateway's Prometheus metrics (issue 14). Everything here is read on
 * scrape: prom-client collect() callbacks copy the counters and state the
 * gateway already keeps (the retained state's counters, the device table, the
 * outbox, the uplink) into gauges and counters. Nothing is done per event;
 * the two latency histograms are fixed-bucket arrays (fixed-histogram.ts)
 * observed where an alert is first sent and where its ack arrives.
 *
 * Names follow Prometheus' conventions: `safehouse_` prefix, base units
 * (seconds, ratio), `_total` on counters. Labels: `device` and `kind` per
 * device, `counter` for a driver's own counts; never an alert id (unbounded).
 * Label values are escaped by prom-client's exposition (backslash, quote,
 * newline), so any device id yields a valid exposition.
 */
import { createRequire } from 'node:module'
import type { Counter as CounterT, Gauge as GaugeT, Registry as RegistryT } from 'prom-client'
import type { GatewayParts } from '../gateway-parts.js'
import type { OutboxEntry } from '../outbox/outbox.js'
import { Kind } from '../../protocols/event-kinds.js'
import { gatewayCounters } from '../state/gateway-state-payload.js'
import { VERSION } from '../version.js'
import { FixedHistogram } from './fixed-histogram.js'
import { COUNTER_HELP } from './counter-help.js'

/** What the metrics read of the gateway (issue 18: a narrow view, not the class). */
type MetricsSource = Pick<GatewayParts, 'broker' | 'clock' | 'config' | 'core' | 'counters' | 'dc09' | 'devices' | 'group' | 'hostHealth' | 'outbox' | 'startedAt' | 'state' | 'uplink'>

/** Seconds. The gateway's own share is milliseconds (DESIGN §6); EN 50131-1 allows 10 s end to end. */
const SEND_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
/** Seconds. An operator's ack takes seconds to minutes; the escalation comes at station.ack_timeout_s (30 s). */
const ACK_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800]

type PromClient = { Counter: typeof CounterT; Gauge: typeof GaugeT; Registry: typeof RegistryT }

export class GatewayMetrics {
  readonly sendLatency = new FixedHistogram(
    'safehouse_alert_send_latency_seconds',
    'Time from the hardware seeing an alert to its first send to the station (alerts recovered after a restart count from the time they were accepted).',
    SEND_BUCKETS,
  )
  readonly ackLatency = new FixedHistogram(
    'safehouse_alert_ack_latency_seconds',
    'Time from the last send of an alert to the station to the station\'s acknowledgement.',
    ACK_BUCKETS,
  )
  private reg: RegistryT | null = null
  private prom!: PromClient

  constructor(private readonly gw: MetricsSource) {}

  /**
   * prom-client (and the @opentelemetry/api it loads, ~80 modules) is required and the registry built
   * at the first scrape, not with the gateway (issue 13 §5-6): every metric reads the gateway on
   * collect(), so nothing is lost by building them late, and a post nobody scrapes never holds them.
   */
  get registry(): RegistryT {
    if (this.reg) return this.reg
    this.prom = createRequire(import.meta.url)('prom-client') as PromClient
    const r = (this.reg = new this.prom.Registry())
    this.sendLatency.register(r)
    this.ackLatency.register(r)
    this.gatewayGauges()
    this.gatewayCounterMetrics()
    this.deviceMetrics()
    return r
  }

  /** An alert went to the station for the first time (station-uplink.ts publishAlert). */
  alertSent(e: OutboxEntry, now: number): void {
    if (e.attempts !== 1) return
    const hw = this.gw.state.open.get(e.id)?.hw_time
    this.sendLatency.observe((now - (hw !== undefined && Number.isFinite(hw) ? hw : e.acceptedAt)) / 1000)
  }

  /** The station acknowledged an alert last sent at `sentAt` (NaN: never sent by us, e.g. acked locally first). */
  alertAcked(sentAt: number, now: number): void {
    if (Number.isFinite(sentAt)) this.ackLatency.observe((now - sentAt) / 1000)
  }

  /** The exposition text (GET /metrics). */
  text(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }

  private gauge(name: string, help: string, read: () => number, labelNames: string[] = []): GaugeT {
    return new this.prom.Gauge({ name, help, labelNames, registers: [this.registry], collect() { this.set(read()) } })
  }

  private gatewayGauges(): void {
    const gw = this.gw
    const r = this.reg!
    const { Counter, Gauge } = this.prom
    new Gauge({
      name: 'safehouse_gateway_info', help: 'Constant 1, labelled with the gateway\'s version, site and post.', labelNames: ['version', 'site', 'post'], registers: [r],
      collect() { this.set({ version: VERSION, site: gw.config.site, post: gw.config.post }, 1) },
    })
    this.gauge('safehouse_gateway_start_time_seconds', 'When the gateway started (Unix time).', () => gw.startedAt / 1000)
    this.gauge('safehouse_uplink_connected', '1 while the uplink to the station broker is connected.', () => (gw.uplink.connected ? 1 : 0))
    // Per station path (issue 16 §1): the label is the configured path name (a handful at most).
    new Gauge({
      name: 'safehouse_uplink_path_connected', help: '1 while this path to the station is connected (station.paths; "primary" with one path).', labelNames: ['path'], registers: [r],
      collect() { this.reset(); for (const l of gw.uplink.links) this.set({ path: l.name }, l.connected ? 1 : 0) },
    })
    new Gauge({
      name: 'safehouse_uplink_path_active', help: '1 for the path carrying alerts now (the first connected one in order of preference).', labelNames: ['path'], registers: [r],
      collect() { this.reset(); for (const l of gw.uplink.links) this.set({ path: l.name }, l.name === gw.uplink.activePath ? 1 : 0) },
    })
    new Gauge({
      name: 'safehouse_uplink_path_endpoint', help: 'Index in the path\'s endpoints list of the broker in use (or being tried); 0 = the first.', labelNames: ['path'], registers: [r],
      collect() { this.reset(); for (const l of gw.uplink.links) this.set({ path: l.name }, l.endpoint) },
    })
    this.gauge('safehouse_outbox_depth', 'Alerts waiting in the outbox for the station\'s acknowledgement.', () => gw.outbox.stats().depth)
    this.gauge('safehouse_outbox_oldest_age_seconds', 'Age of the oldest unacknowledged alert in the outbox (0 when empty).', () => {
      const o = gw.outbox.oldest(1)
      return o.length ? Math.max(0, (gw.clock.now() - o[0].acceptedAt) / 1000) : 0
    })
    this.gauge('safehouse_outbox_durable', '0 while alerts are not stored durably (disk full, read-only, open failure: see the gateway state\'s outbox_problem).', () => (gw.outbox.problem?.() ? 0 : 1))
    this.gauge('safehouse_open_alerts', 'Alerts raised and not yet acknowledged (the retained state\'s open_alerts, at most 50).', () => gw.state.open.size)
    this.gauge('safehouse_walk_test_mode', '1 while the post is in walk-test mode (alerts marked test).', () => (gw.core.testMode ? 1 : 0))
    new Gauge({
      name: 'safehouse_host_cpu_temperature_celsius', help: 'CPU temperature (absent where the host does not report it).', registers: [r],
      collect() { this.reset(); if (gw.hostHealth.cpuTempC !== null) this.set(gw.hostHealth.cpuTempC) },
    })
    new Gauge({
      name: 'safehouse_host_data_dir_free_bytes', help: 'Free space on the file system holding data_dir.', registers: [r],
      collect() { this.reset(); if (gw.hostHealth.diskFreeMb !== null) this.set(gw.hostHealth.diskFreeMb * 1024 * 1024) },
    })
  }

  /** Every counter of the retained gateway state, as `safehouse_<name>_total`, plus the uplink's own. */
  private gatewayCounterMetrics(): void {
    const gw = this.gw
    const r = this.reg!
    const { Counter, Gauge } = this.prom
    for (const key of Object.keys(gatewayCounters(gw))) {
      new Counter({
        name: `safehouse_${key}_total`, help: COUNTER_HELP[key] ?? `The gateway state's counter ${key}.`, registers: [r],
        collect() { this.reset(); this.inc(gatewayCounters(gw)[key] ?? 0) },
      })
    }
    const uplink: [string, string, () => number][] = [
      ['safehouse_uplink_connects_total', 'Connections made to the station broker.', () => gw.uplink.counters.connects],
      ['safehouse_uplink_connect_failures_total', 'Failed attempts to connect to the station broker.', () => gw.uplink.counters.connectFailures],
      ['safehouse_uplink_alerts_sent_total', 'Alerts sent to the station as they were raised.', () => gw.uplink.counters.alertsSent],
      ['safehouse_uplink_alerts_replayed_total', 'Alerts sent again: replayed after a reconnect, or re-sent after the ack timeout.', () => gw.uplink.counters.alertsReplayed],
      ['safehouse_uplink_failovers_total', 'Moves to the next station endpoint of a path after a failed attempt or a lost connection (station.endpoints).', () => gw.uplink.counters.failovers],
      ['safehouse_uplink_puback_timeouts_total', 'Station connections given up because a publish waited 1.5 x keepalive for its PUBACK (a node that answers pings but stalls publishes).', () => gw.uplink.counters.pubackTimeouts],
      ['safehouse_uplink_inbound_ignored_total', 'Messages from a station path that was not carrying the traffic, not acted on (the path in use holds the subscriptions).', () => gw.uplink.counters.inboundIgnored],
      ['safehouse_uplink_path_switches_total', 'Changes of the path carrying alerts (station.paths).', () => gw.uplink.counters.pathSwitches],
      ['safehouse_uplink_resubscribes_total', 'Subscriptions to acks and commands renewed because acks were overdue (a broker that lost them).', () => gw.uplink.counters.resubscribes],
      ['safehouse_uplink_subscribe_refusals_total', 'SUBSCRIBEs to acks and commands the station broker refused (SUBACK 0x80), each retried.', () => gw.uplink.counters.subscribeRefusals],
      ['safehouse_uplink_session_resets_total', 'Broker sessions rebuilt (clean session) because the station broker kept refusing our subscriptions.', () => gw.uplink.counters.sessionResets],
      ['safehouse_outbox_appended_total', 'Alerts accepted into the outbox.', () => gw.outbox.stats().appended],
      ['safehouse_outbox_acked_total', 'Alerts removed from the outbox by the station\'s acknowledgement.', () => gw.outbox.stats().acked],
    ]
    for (const [name, help, read] of uplink) new Counter({ name, help, registers: [r], collect() { this.reset(); this.inc(read()) } })
  }

  /** Per device: online, missing, active faults, battery, RSSI, last-seen age and the driver's counters. */
  private deviceMetrics(): void {
    const { state, devices, clock } = this.gw
    const r = this.reg!
    const { Counter, Gauge } = this.prom
    const each = (fn: (d: number, labels: { device: string; kind: string }) => void) => {
      for (let d = 1; d < devices.size; d++) {
        const e = devices.get(d)
        fn(d, { device: e.id, kind: e.kind })
      }
    }
    const missing = (d: number) => (state.faults[d] & (1 << Kind.MISSING)) !== 0
    const perDevice = (name: string, help: string, value: (d: number) => number) => new Gauge({
      name, help, labelNames: ['device', 'kind'], registers: [r],
      collect() {
        this.reset()
        each((d, labels) => {
          const v = value(d)
          if (Number.isFinite(v)) this.set(labels, v)
        })
      },
    })
    perDevice('safehouse_device_online', '1 when the device is online (heard from, link up, not missing).', (d) => (state.status[d] === 'online' && !missing(d) ? 1 : 0))
    perDevice('safehouse_device_missing', '1 when a supervised device stayed silent longer than its supervision_s.', (d) => (missing(d) ? 1 : 0))
    perDevice('safehouse_device_active_faults', 'Faults active on the device (wire_cut, tamper, low_battery, ...: see the device state\'s faults).', (d) => {
      let n = 0
      for (let f = state.faults[d]; f; f &= f - 1) n++
      return n
    })
    perDevice('safehouse_device_battery_ratio', 'Battery level, 0 to 1 (absent until the device reports it).', (d) => state.battery[d] / 100)
    perDevice('safehouse_device_rssi_dbm', 'Signal strength of the last advertisement heard (radio devices).', (d) => state.rssi[d])
    perDevice('safehouse_device_last_seen_age_seconds', 'Seconds since the device was last heard (absent if never).', (d) => Math.max(0, (clock.now() - state.lastSeen[d]) / 1000))
    new Counter({
      name: 'safehouse_device_driver_events_total', help: 'A driver\'s own counts per device, by name (the device state\'s counters: firmata_garbage_bytes, modbus_crc, ble_replay, ...).',
      labelNames: ['device', 'event'], registers: [r],
      collect() {
        this.reset()
        for (let d = 0; d < devices.size; d++) {
          const device = devices.get(d).id
          for (const [event, v] of state.counters[d]) this.inc({ device, event }, v)
        }
      },
    })
  }
}
