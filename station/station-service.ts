/**
 * The station service's composition root (issue 15):
 *   config -> store -> ingest -> live -> actions/roll call -> web.
 * Constructors only store fields; start() opens the store, connects to the
 * broker and listens; stop() closes in reverse (DESIGN §4). Never imports
 * gateway/: the contract comes from protocols/ only.
 */
import type { Logger } from 'pino'
import { pino } from 'pino'
import type { StationHealth } from './station-api.js'
import { openStore } from './store/open-store.js'
import type { SqlStore } from './store/sql-store.js'
import { LiveFeed } from './live/live-feed.js'
import { Counters } from './ingest/counters.js'
import { StationIngest } from './ingest/station-ingest.js'
import { StationBroker } from './ingest/station-broker.js'
import { stationFilters } from './ingest/topic-parse.js'
import { CommandClient } from './actions/command-client.js'
import { Actions } from './actions/station-actions.js'
import { RollCalls } from './rollcall/roll-calls.js'
import { AckEcho } from './ingest/ack-echo.js'
import { createStationWeb, type StationWeb } from './web/web-server.js'
import { StationMetrics } from './metrics/station-metrics.js'
import { MetricsListener } from '../devices/host/metrics-listener.js'
import type { StationConfig } from './config/station-config-schema.js'
import { StoreCatchUp } from './ingest/store-catch-up.js'
import type { StationSecrets } from './config/load-station-config.js'

export interface StationServiceOptions {
  /** sqlite:<path> or postgres://… (with the password already in it). */
  storeUrl: string
  broker: { url: string; failoverUrls?: string[]; username: string | null; password: string | null; caFile: string | null; protocol?: 'auto' | '5' | '3.1.1'; clientId: string; sites: string[] }
  /** null: no console (benchmarks, ingest-only tests). */
  web: { host: string; port: number; secureCookie?: boolean; allowedOrigins?: string[]; trustProxy?: boolean } | null
  /** Prometheus /metrics (issue 14); null: off. Port 0 picks a free one. */
  metrics?: { host: string; port: number } | null
  timeZone: string
  testReportGraceS?: number
  unknownPostGraceMs?: number
  maxHeldRows?: number
  commandTimeoutMs?: number
  dbRetryMs?: number
  /** How often an instance on PostgreSQL reads alerts its broker did not bring (store-catch-up.ts; default 5000). */
  catchUpMs?: number
  scryptN?: number
  log?: Logger
  now?: () => number
}

export function optionsFromConfig(c: StationConfig, s: StationSecrets, log?: Logger): StationServiceOptions {
  let storeUrl = c.store
  if (s.store_password && /^postgres(ql)?:\/\//.test(storeUrl)) {
    const u = new URL(storeUrl)
    u.password = s.store_password
    storeUrl = u.toString()
  }
  return {
    storeUrl,
    broker: { url: c.broker.url, failoverUrls: c.broker.failover_urls, username: c.broker.username, password: s.broker_password, caFile: c.broker.ca_file, protocol: c.broker.protocol, clientId: c.broker.client_id, sites: c.broker.sites },
    web: { host: c.web.host, port: c.web.port, secureCookie: c.web.secure_cookie, allowedOrigins: c.web.allowed_origins, trustProxy: c.web.trust_proxy },
    metrics: c.metrics.enabled ? { host: c.metrics.host, port: c.metrics.port } : null,
    timeZone: c.time_zone,
    testReportGraceS: c.test_report_grace_s,
    unknownPostGraceMs: c.unknown_post_grace_ms,
    maxHeldRows: c.max_held_rows,
    log,
  }
}

export class StationService {
  store!: SqlStore
  readonly live = new LiveFeed()
  readonly counters = new Counters()
  ingest!: StationIngest
  broker!: StationBroker
  actions!: Actions
  rollCalls!: RollCalls
  health!: StationHealth
  web: StationWeb | null = null
  /** The console's port once listening (0 when there is no console). */
  webPort = 0
  metrics: StationMetrics | null = null
  /** /metrics' port once listening (0 when off or not bound). */
  metricsPort = 0
  metricsServer: MetricsListener | null = null
  private commands!: CommandClient
  /** Only with PostgreSQL (several instances). */
  catchUp: StoreCatchUp | null = null
  private readonly log: Logger
  private readonly now: () => number

  constructor(readonly o: StationServiceOptions) {
    this.log = o.log ?? pino({ level: 'silent' })
    this.now = o.now ?? Date.now
  }

  async start(): Promise<this> {
    const o = this.o
    const startedAt = this.now()
    this.store = await openStore(o.storeUrl, { now: this.now, testReportGraceS: o.testReportGraceS, scryptN: o.scryptN })
    this.ingest = new StationIngest(this.store, this.live, this.counters, { log: this.log, now: this.now, unknownPostGraceMs: o.unknownPostGraceMs, maxHeld: o.maxHeldRows, retryMs: o.dbRetryMs })
    this.broker = new StationBroker({ ...o.broker, log: this.log })
    this.commands = new CommandClient(this.broker, o.commandTimeoutMs)
    this.rollCalls = new RollCalls(this.store, this.live, (site, post, name, by, args) => this.commands.send(site, post, name, by, args), this.log, this.now)
    this.actions = new Actions(this.store, this.ingest.writer, this.live, this.broker, this.commands, this.rollCalls, this.now)
    const echo = new AckEcho(this.store, this.ingest.writer, this.live, this.actions.ownAcks, this.counters)
    this.ingest.onStoredAlert = (a) => {
      void this.rollCalls.onAlert(a).catch((e: Error) => this.log.error({ err: e.message }, 'roll call update failed'))
      void this.actions.acknowledgeRollCallAnswer(a)
    }
    this.ingest.onAckedDuplicate = (id) => void this.actions.resendAck(id)
    const writer = this.ingest.writer
    const broker = this.broker
    const counters = this.counters
    const live = this.live
    this.health = {
      dbOk: () => writer.dbOk,
      brokerConnected: () => broker.connected,
      counters: () => ({ ...counters.snapshot(), held: writer.held, live_seq: live.lastSeq, live_subscriber_errors: live.subscriberErrors, broker_subscribe_refusals: broker.subscribeRefusals, broker_refused_filters: broker.refusedFilters.length }),
    }
    await this.ingest.start()
    // Several instances share PostgreSQL (issue 16 §3): what another instance stored and this one's
    // broker never brought still reaches this instance's consoles, and so do acks (store-catch-up.ts).
    if (this.store.kind === 'postgres') {
      this.catchUp = new StoreCatchUp(this.store, this.live, (n) => this.counters.inc(n), this.now, { intervalMs: o.catchUpMs })
      this.catchUp.start()
    }
    const filters = [...stationFilters(o.broker.sites), ...AckEcho.filters(o.broker.sites), this.commands.replyFilter()]
    await this.broker.start(filters, (topic, payload, props) => {
      if (this.commands.isReply(topic)) return this.commands.handleReply(payload, props.correlationData)
      if (AckEcho.matches(topic)) return echo.handle(topic, payload)
      this.ingest.handle(topic, payload)
    })
    if (o.web) {
      this.web = createStationWeb({
        store: this.store, live: this.live, actions: this.actions, health: this.health, timeZone: o.timeZone, logger: this.log,
        clock: { now: this.now }, secureCookie: o.web.secureCookie, allowedOrigins: o.web.allowedOrigins, trustProxy: o.web.trustProxy,
      })
      this.webPort = (await this.web.listen(o.web.host, o.web.port)).port
    }
    if (o.metrics) {
      const store = this.store
      this.metrics = new StationMetrics({ fleet: () => store.fleet(), health: this.health, now: this.now, startedAt })
      this.metricsServer = new MetricsListener({ host: o.metrics.host, port: o.metrics.port, metrics: this.metrics, log: this.log })
      await this.metricsServer.start()
      this.metricsPort = this.metricsServer.address?.port ?? 0
    }
    this.log.info({ store: this.store.kind, web: this.webPort || null, metrics: this.metricsPort || null }, 'station service started')
    return this
  }

  async stop(): Promise<void> {
    await this.metricsServer?.stop()
    await this.web?.close().catch(() => {})
    this.rollCalls?.stop()
    await this.catchUp?.stop()
    this.commands?.close()
    await this.broker?.stop()
    if (this.ingest) {
      await this.ingest.writer.flush(3000)
      this.ingest.stop()
    }
    await this.store?.close().catch(() => {})
  }
}
