/**
 * The gateway's parts as the pieces built around them see them (issue 18).
 * Commands, the inbound router and the state publisher each take a Pick of
 * this, naming exactly what they use, instead of the Gateway class: that kept
 * gateway.ts and four of its own parts importing each other in a circle.
 * Gateway implements it; nothing here imports gateway.ts or those four.
 */
import type { Logger } from 'pino'
import type { Clock } from '../devices/time/clock.js'
import type { Config } from './config/config-types.js'
import type { PostTopics } from '../protocols/mqtt/topics.js'
import type { DeviceTable } from './core/device-table.js'
import type { EventCore } from './core/event-core.js'
import type { EmbeddedBroker } from './broker/embedded-broker.js'
import type { StationUplink } from './uplink/station-uplink.js'
import type { Outbox } from './outbox/outbox.js'
import type { StateTracker } from './state/state-tracker.js'
import type { CommandHandler } from './inbound/command-handler.js'
import type { LampSink } from './sinks/lamp-sink.js'
import type { GroupParts } from './group/create-group-fanout.js'
import type { HostHealth } from './state/host-health.js'
import type { SimControl } from './driver-factory.js'
import type { Dc09Parts } from './dc09/create-dc09.js'
import type { RollCall } from './roll-call/roll-call.js'

export interface GatewayCounters { unknownAcks: number; badAcks: number; driverStartFailures: number; refusedReplyTopics: number; oversizedInbound: number }

export interface GatewayParts {
  readonly clock: Clock
  readonly log: Logger
  readonly config: Readonly<Config>
  readonly topics: PostTopics
  readonly devices: DeviceTable
  readonly core: EventCore
  readonly broker: EmbeddedBroker
  readonly uplink: StationUplink
  readonly outbox: Outbox
  readonly state: StateTracker
  /** Typed by what is used, not by the class: state-publisher.ts takes GatewayParts itself. */
  readonly statePublisher: { flushSoon(): void }
  readonly commands: CommandHandler
  readonly group: GroupParts | null
  readonly hostHealth: HostHealth
  readonly startedAt: number
  readonly counters: GatewayCounters
  readonly twins: ReadonlyMap<string, SimControl>
  readonly lamp: LampSink | null
  readonly dc09: Dc09Parts | null
  /** The roll call (issue 15): start() for the command, the drivers' input gate. */
  readonly rollCall: RollCall
  /** Typed by what is used: metrics/gateway-metrics.ts takes GatewayParts itself. */
  readonly metrics: { alertAcked(sentAt: number, ackedAt: number): void }
  /** The retained gateway state payload (state/gateway-state-payload.ts). */
  gatewayState(): object
}
