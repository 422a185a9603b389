/**
 * The composition root (DESIGN §4): builds every object from one validated,
 * frozen Config. Constructors only store fields; start() opens ports and
 * timers in order; stop() closes them in reverse. A failing driver is logged
 * and reported as a device fault; it never stops the others.
 */
import { mkdirSync } from 'node:fs'
import type { Logger } from 'pino'
import { urlForLog } from './log-url.js'
import { systemClock, type Clock, type TimerHandle } from '../devices/time/clock.js'
import type { Config } from './config/config-types.js'
import type { Secrets } from './config/secrets.js'
import { DeviceTable } from './core/device-table.js'
import { EventCore } from './core/event-core.js'
import { FileSequence, MemorySequence, type SequenceSource } from './core/sequence.js'
import { TimerWheel } from './core/timer-wheel.js'
import { AlertEncoder } from '../protocols/mqtt/alert-encoder.js'
import { PostTopics } from '../protocols/mqtt/topics.js'
import { EmbeddedBroker } from './broker/embedded-broker.js'
import { brokerOptions } from './broker/broker-options.js'
import { StationUplink } from './uplink/station-uplink.js'
import type { Outbox } from './outbox/outbox.js'
import { MemoryOutbox } from './outbox/memory-outbox.js'
import { StateTracker } from './state/state-tracker.js'
import { StatePublisher } from './state/state-publisher.js'
import { LocalFanoutSink } from './sinks/local-fanout-sink.js'
import { OutboxSink } from './sinks/outbox-sink.js'
import { LampSink } from './sinks/lamp-sink.js'
import { CommandHandler } from './inbound/command-handler.js'
import { DeviceSupervisor } from './supervision/device-supervisor.js'
import { AckWatcher } from './supervision/ack-watcher.js'
import { registerCommands } from './inbound/commands.js'
import { InboundRouter } from './inbound/inbound-router.js'
import { createGroupFanout, type GroupParts } from './group/create-group-fanout.js'
import type { NeighbourAlert } from './group/group-fanout.js'
import { Kind, kindFromName } from '../protocols/event-kinds.js'
import { GATEWAY_DEVICE } from './core/device-table.js'
import { hasStation, isMultiPath, stationPaths } from './config/station-paths.js'
import { RollCall } from './roll-call/roll-call.js'
import { gatewayStatePayload } from './state/gateway-state-payload.js'
import { VERSION } from './version.js'
import { HostHealth } from './state/host-health.js'
import { createDc09, type Dc09Deps, type Dc09Parts } from './dc09/create-dc09.js'
import { GatewayMetrics } from './metrics/gateway-metrics.js'
import { MetricsListener } from '../devices/host/metrics-listener.js'
import type { DeviceDriver } from '../devices/device-driver.js'
import type { DriverFactory, SimControl } from './driver-factory.js'
import type { IClientOptions, MqttClient } from 'mqtt'
import type { GatewayCounters, GatewayParts } from './gateway-parts.js'

export interface GatewayDeps {
  log: Logger
  clock?: Clock
  drivers: DriverFactory
  /** Override the outbox (tests); default from config.outbox.kind. */
  outbox?: Outbox
  /** Builds the durable outbox for `outbox.kind: file` (issue 6). */
  fileOutbox?: (dir: string, config: Readonly<Config>, log: Logger) => Outbox
  connectStation?: (url: string, opts: IClientOptions) => MqttClient
  /** DC-09 path hooks (tests, benchmarks): ACK latency, injected transport. */
  dc09?: Pick<Dc09Deps, 'onAcked' | 'transport'>
  /**
   * The embedded broker, already listening (open-gateway.ts: `safehouse run` listens before the
   * gateway is loaded), built from brokerOptions(config) with holdInbound. Default: built here.
   */
  broker?: EmbeddedBroker
}

export class Gateway implements GatewayParts {
  readonly clock: Clock
  readonly log: Logger
  readonly topics: PostTopics
  readonly devices: DeviceTable
  readonly encoder: AlertEncoder
  readonly core: EventCore
  readonly wheel: TimerWheel
  readonly broker: EmbeddedBroker
  readonly uplink: StationUplink
  readonly outbox: Outbox
  readonly state: StateTracker
  readonly statePublisher: StatePublisher
  readonly commands: CommandHandler
  readonly inbound: InboundRouter
  readonly supervisor: DeviceSupervisor
  readonly ackWatcher: AckWatcher
  readonly group: GroupParts | null
  readonly hostHealth: HostHealth
  /** The SIA DC-09 path to an alarm receiving centre (issue 17), or null when not configured. */
  readonly dc09: Dc09Parts | null
  readonly metrics: GatewayMetrics
  readonly metricsServer: MetricsListener | null
  /** The roll call (issue 15): the drivers' input sink, in front of the core. */
  readonly rollCall: RollCall
  private testReports: (TimerHandle | null)[] = []
  readonly startedAt: number
  private readonly sequence: SequenceSource & { open?: () => void; settled?: () => Promise<void> }
  private readonly alertTopics: string[]
  private readonly abort = new AbortController()
  private started = false
  counters: GatewayCounters = { unknownAcks: 0, badAcks: 0, driverStartFailures: 0, refusedReplyTopics: 0, oversizedInbound: 0 }

  /** Build a gateway: drivers may need async preparation (e.g. reading replay counters), so use this. */
  static async create(config: Readonly<Config>, secrets: Secrets, deps: GatewayDeps): Promise<Gateway> {
    const gw = new Gateway(config, secrets, deps)
    await gw.attachDrivers(deps.drivers)
    return gw
  }

  private drivers: DeviceDriver[] = []
  twins = new Map<string, SimControl>()
  lamp: LampSink | null = null

  private constructor(readonly config: Readonly<Config>, readonly secrets: Secrets, deps: GatewayDeps) {
    const c = config
    this.clock = deps.clock ?? systemClock
    this.log = deps.log
    this.startedAt = this.clock.now()
    this.topics = new PostTopics(c.site, c.post)
    this.devices = new DeviceTable(c.devices, { keyedDedupeMs: c.core.keyed_dedupe_ms, unkeyedDedupeMs: c.core.dedupe_ms })
    this.encoder = new AlertEncoder({ site: c.site, post: c.post, postType: c.post_type })
    this.alertTopics = this.devices.entries.map((e) => this.topics.alert(e.id))
    for (const e of this.devices.entries) this.encoder.internDevice({ id: e.id, kind: e.kind, label: e.label, location: e.location })
    this.encoder.setPathNames(stationPaths(c.station).map((p) => p.name))
    this.sequence = c.outbox.kind === 'memory' && !deps.fileOutbox ? new MemorySequence() : new FileSequence(c.data_dir)
    this.core = new EventCore({
      clock: this.clock,
      devices: this.devices,
      encoder: this.encoder,
      sequence: this.sequence,
      onSinkError: (sink, err) => this.log.error({ sink, err: (err as Error).message }, 'event sink failed'),
    })
    this.wheel = new TimerWheel(this.clock, c.core.tick_ms)
    this.outbox = deps.outbox ?? (c.outbox.kind === 'file' && deps.fileOutbox ? deps.fileOutbox(c.data_dir, c, this.log.child({ component: 'outbox' })) : new MemoryOutbox())
    // Local clients' payloads are checked once the inbound router exists: start() wires it (openInbound).
    this.broker = deps.broker ?? new EmbeddedBroker({ ...brokerOptions(c, secrets, this.log), holdInbound: true })
    this.uplink = new StationUplink({
      station: c.station,
      topics: this.topics,
      clientId: c.station.client_id ?? `safehouse-${c.site}-${c.post}`,
      password: secrets.station_password,
      version: VERSION,
      outbox: this.outbox,
      clock: this.clock,
      log: this.log.child({ component: 'uplink' }),
      onMessage: (m) => this.inbound.fromStation(m),
      onStateChange: () => { this.state.gatewayDirty = true },
      connect: deps.connectStation,
      extraSubscriptions: c.group ? [this.topics.groupAlert(c.group)] : [],
      onAlertSent: (e, now) => {
        this.group?.fanout.alertPublished(e.payload) // the group copy follows its alert (issue 13 §1)
        this.metrics.alertSent(e, now)
      },
      // Dual path (issue 16 §1): a failed path is a trouble of the gateway, sent over the other path.
      onPathChange: (i, up) => {
        const now = this.clock.now()
        if (up) this.core.input(GATEWAY_DEVICE, Kind.RESTORED, Kind.PATH_FAILURE + 256 * i, now, Number.NaN, -1)
        else this.core.input(GATEWAY_DEVICE, Kind.PATH_FAILURE, i, now, Number.NaN, -1)
      },
    })
    this.group = createGroupFanout(c, secrets, {
      clock: this.clock,
      log: this.log.child({ component: 'group' }),
      topics: this.topics,
      station: this.uplink,
      relay: (a) => this.relayNeighbourAlert(a),
    })
    this.state = new StateTracker(this.devices, (seq) => this.encoder.id(seq))
    this.core.setHealthListener(this.state)
    // CPU temperature and free disk for maintainers (issue 6 §4): sampled off the alert path.
    this.hostHealth = new HostHealth({ clock: this.clock, dataDir: c.data_dir, log: this.log.child({ component: 'host' }), onLowDiskChange: () => { this.state.gatewayDirty = true } })
    // Sink order: state first (so a published alert's device state is current), then local fan-out
    // (fastest path to people nearby), then the outbox/station, then the lamp (attachDrivers).
    this.core.addSink(this.state)
    this.core.addSink(new LocalFanoutSink(this.broker, this.alertTopics))
    this.core.addSink(new OutboxSink(this.outbox, this.devices, this.alertTopics, (seq) => this.encoder.id(seq)))
    // DC-09 (issue 17): its own durable queue, acked by the receiving centre independently of the station.
    this.dc09 = createDc09(c, secrets, { clock: this.clock, log: this.log.child({ component: 'dc09' }), devices: this.devices, idOf: (seq) => this.encoder.id(seq), fileOutbox: deps.fileOutbox, onStateChange: () => { this.state.gatewayDirty = true }, ...deps.dc09 })
    if (this.dc09) this.core.addSink(this.dc09.sink)
    if (this.group) this.core.addSink(this.group.fanout)
    this.rollCall = new RollCall({
      clock: this.clock,
      core: this.core,
      setRollCallId: (id) => this.encoder.setRollCall(id),
      log: this.log.child({ component: 'roll-call' }),
      // Local display only (panels, screens): the station knows its own roll call.
      show: (s) => this.broker.publish(this.topics.rollCall, s ? Buffer.from(JSON.stringify({ v: 1, id: s.id, deadline: s.deadline })) : Buffer.alloc(0), 1, true),
    })
    this.supervisor = new DeviceSupervisor(this.devices, this.wheel, this.clock, this.core)
    this.core.addSink(this.supervisor)
    this.ackWatcher = new AckWatcher(this.outbox, this.clock, c.station.ack_timeout_s * 1000, this.core, this.devices, (e) => this.uplink.resend(e))
    this.statePublisher = new StatePublisher(this, (topic, payload) => {
      this.broker.publish(topic, payload, 1, true)
      this.uplink.publish(topic, payload, 1, true)
    })
    this.commands = new CommandHandler(this.log.child({ component: 'commands' }))
    registerCommands(this)
    this.inbound = new InboundRouter(this)
    // Prometheus /metrics (issue 14): read on scrape, nothing per event.
    this.metrics = new GatewayMetrics(this)
    this.metricsServer = c.metrics.enabled ? new MetricsListener({ host: c.metrics.host, port: c.metrics.port, metrics: this.metrics, log: this.log.child({ component: 'metrics' }) }) : null
  }

  private async attachDrivers(factory: DriverFactory): Promise<void> {
    const c = this.config
    const built = await factory({ config: c, secrets: this.secrets, devices: this.devices, clock: this.clock, log: this.log, sink: this.rollCall })
    this.drivers = built.drivers
    this.twins = built.twins
    if (built.lamp) {
      const lamp = built.lamp
      this.state.lampSource = () => lamp.pattern
      this.lamp = new LampSink(lamp, () => this.state.lampChanged())
      this.core.addSink(this.lamp)
    }
  }

  async start(): Promise<void> {
    const c = this.config
    const log = this.log
    if (this.sequence.open || c.outbox.kind === 'file') {
      try {
        mkdirSync(c.data_dir, { recursive: true, mode: 0o700 })
      } catch (e) {
        throw new Error(`cannot create data_dir ${c.data_dir}: ${(e as Error).message}; create it and make it writable by the service user`)
      }
    }
    this.sequence.open?.()
    const recovered = await this.outbox.open()
    if (recovered.recovered || recovered.damaged) log.warn(recovered, 'outbox recovered alerts from the last run')
    await this.dc09?.start()
    await this.broker.start() // already listening when open-gateway.ts built it
    this.inbound.subscribeLocal()
    // Publishes held since listen are decided now, with the gateway's subscriptions in place.
    this.broker.openInbound((topic, payload, from) => this.inbound.validate(topic, payload, from))
    for (const p of this.group?.peers ?? []) p.start()
    this.wheel.start()
    this.hostHealth.start()
    await this.metricsServer?.start()
    this.uplink.start()
    this.statePublisher.start()
    this.supervisor.start()
    if (hasStation(c.station)) this.ackWatcher.start()
    stationPaths(c.station).forEach((_p, i) => this.scheduleTestReport(i))
    // Drivers last: every sink is ready before the first input can arrive.
    for (const d of this.drivers) {
      try {
        await d.start(this.abort.signal)
      } catch (e) {
        this.counters.driverStartFailures++
        log.error({ driver: d.kind, err: (e as Error).message }, 'device driver failed to start; other devices continue')
      }
    }
    this.started = true
    log.info({ site: c.site, post: c.post, devices: this.devices.size - 1, station: stationPaths(c.station).map((p) => p.endpoints.map((u) => urlForLog(u)).join(',')).join(' | ') || 'none' }, 'gateway started')
  }

  async stop(): Promise<void> {
    // Stop drivers ourselves and wait for each; the abort (for a start still in progress)
    // comes after, so a driver's abort listener cannot start a stop we would not wait for.
    for (const d of [...this.drivers].reverse()) {
      try {
        await d.stop()
      } catch (e) {
        this.log.warn({ driver: d.kind, err: (e as Error).message }, 'device driver did not stop cleanly')
      }
    }
    this.abort.abort()
    this.statePublisher.stop()
    this.hostHealth.stop()
    this.supervisor.stop()
    this.rollCall.stop()
    this.ackWatcher.stop()
    for (const t of this.testReports) if (t) this.clock.clearTimeout(t)
    this.testReports = []
    this.group?.fanout.stop()
    await this.uplink.stop()
    await this.dc09?.stop()
    for (const p of this.group?.peers ?? []) await p.stop()
    this.wheel.stop()
    await this.metricsServer?.stop()
    await this.broker.stop()
    await this.outbox.close()
    await this.sequence.settled?.() // a lease being written ahead lands before the next start reads the file
    if (this.started) this.log.info({}, 'gateway stopped')
    this.started = false
  }

  /** A neighbour's alarm: local screens get it (marked origin_post), the lamp shows it. */
  private relayNeighbourAlert(a: NeighbourAlert): void {
    this.broker.publish(this.topics.neighbourAlert(a.post), a.payload, 1, false)
    const kind = kindFromName(a.kind)
    if (kind !== undefined) this.lamp?.neighbourAlarm(kind)
  }

  /**
   * Periodic test report (issue 6 §3; EN 50136-1 style path supervision): lets the
   * station tell a dead gateway or path within test_report_s even if the Last Will
   * is lost. Latest-value: sent only while connected, never queued. Each path sends
   * its own over its own connection (issue 16 §1), naming itself when there are several.
   */
  private scheduleTestReport(index: number): void {
    const path = stationPaths(this.config.station)[index]
    const every = path.testReportS * 1000
    if (!every) return
    this.testReports[index] = this.clock.setTimeout(() => {
      const body = { v: 1, post: this.config.post, time: this.clock.now(), interval_s: path.testReportS, outbox_depth: this.outbox.stats().depth, ...(isMultiPath(this.config.station) ? { path: path.name } : {}) }
      this.uplink.publishOnPath(index, this.topics.testReport, Buffer.from(JSON.stringify(body)))
      this.scheduleTestReport(index)
    }, every)
  }

  /** The retained gateway-state payload (gateway-state.schema.json). */
  gatewayState(): object {
    return gatewayStatePayload(this)
  }
}
