/**
 * Everything that reaches the gateway from outside, by topic (docs/protocol.md
 * §Ack, §Commands): acks and command requests from the station uplink and from
 * local clients of the embedded broker, group alerts, and the demo's simulator
 * topics. validate() is the embedded broker's payload check for what local
 * clients publish to these topics, run before anything acts on it.
 */
import type { GatewayParts } from '../gateway-parts.js'

/** What the router uses of the gateway (issue 18: a narrow view, not the class). */
type InboundHost = Pick<GatewayParts, 'broker' | 'clock' | 'commands' | 'config' | 'counters' | 'group' | 'lamp' | 'log' | 'metrics' | 'outbox' | 'state' | 'statePublisher' | 'topics' | 'twins' | 'uplink'>
import type { InboundMessage } from '../uplink/station-uplink.js'
import type { ReplyChannel } from './command-handler.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'
import type { Publisher } from '../broker/embedded-broker.js'
import { groupAlertOriginProblem } from '../group/group-origin.js'

interface AckPayload { id: string; by: string; at?: number }

export class InboundRouter {
  private readonly localReplies: ReplyChannel = { reply: (topic, payload) => this.localReply(topic, payload) }

  constructor(private readonly gw: InboundHost) {}

  /** Consume the local topics on the embedded broker (once it has started). */
  subscribeLocal(): void {
    const { broker, topics, commands, group } = this.gw
    broker.subscribe(topics.ack, (_t, p) => this.handleAck(p, 'local'))
    broker.subscribe(topics.cmdFilter, (t, p) => commands.handle(t.slice(topics.cmdPrefix.length), p, this.localReplies, {}))
    broker.subscribe(topics.simFilter, (t, p) => this.onSim(t, p))
    if (group) broker.subscribe(group.topic, (_t, p) => group.fanout.receive(p, 'peer'))
  }

  /** A message from the station broker (our ack, command and group subscriptions). */
  fromStation(m: InboundMessage): void {
    const { topics, group, commands, uplink } = this.gw
    // Bounded before anything parses it (issue 12 §11): every payload we consume is small.
    if (m.payload.length > this.gw.config.station.max_inbound_bytes) {
      this.gw.counters.oversizedInbound++
      this.gw.log.warn({ topic: m.topic, bytes: m.payload.length, max: this.gw.config.station.max_inbound_bytes }, 'oversized message from the station dropped unread')
      return
    }
    if (m.topic === topics.ack) return this.handleAck(m.payload, 'station')
    if (group && m.topic === group.topic) return group.fanout.receive(m.payload, 'station')
    if (m.topic.startsWith(topics.cmdPrefix)) {
      return commands.handle(m.topic.slice(topics.cmdPrefix.length), m.payload, uplink, m)
    }
  }

  /** A station (or local station console) acknowledged an alert. */
  handleAck(payload: Buffer, via: 'station' | 'local'): void {
    const gw = this.gw
    const r = checkPayload<AckPayload>('ack', payload)
    if (!r.ok) {
      gw.counters.badAcks++
      gw.log.warn({ via, problem: r.error }, 'malformed ack ignored')
      return
    }
    const { id, by } = r.value
    const kind = this.kindOf(id)
    const sentAt = gw.outbox.lastSentAt?.(id) ?? Number.NaN
    const known = gw.outbox.ack(id)
    gw.uplink.acked(id)
    if (!known && !gw.state.open.has(id)) {
      gw.counters.unknownAcks++
      gw.log.warn({ id, by, via }, 'ack for an unknown alert id ignored')
      return
    }
    const at = gw.clock.now()
    gw.metrics.alertAcked(sentAt, at)
    gw.state.recordAck(id, by, at)
    if (kind !== null) gw.lamp?.acknowledged(kind)
    gw.log.info({ id, by, via }, 'alert acknowledged by the station')
    gw.statePublisher.flushSoon()
  }

  /** The kind of an open alert: from the state's open list, else from its payload in the outbox (after a restart). */
  private kindOf(id: string): string | null {
    const rec = this.gw.state.open.get(id)
    if (rec) return rec.kind
    const entry = this.gw.outbox.pending().find((e) => e.id === id)
    if (!entry) return null
    try {
      const k = (JSON.parse(entry.payload.toString('utf8')) as { kind?: unknown }).kind
      return typeof k === 'string' ? k : null
    } catch {
      return null
    }
  }

  /** What local clients may publish to the topics the gateway consumes must be well-formed. */
  validate(topic: string, payload: Buffer, from: Publisher = { user: '', role: '' }): string | null {
    const { topics, group } = this.gw
    if (topic === topics.ack) {
      const r = checkPayload('ack', payload)
      return r.ok ? null : r.error
    }
    if (group && topic === group.topic) return groupAlertOriginProblem(payload, this.gw.config.site, from.user)
    if (topic.startsWith(topics.cmdPrefix) && payload.length) {
      const r = checkPayload<{ response_topic?: string }>('commandRequest', payload)
      if (!r.ok) return r.error
      // Refused before the command runs: a lamp-test with a forged reply topic must not light the lamp.
      const reply = r.value.response_topic
      if (reply !== undefined && !this.isLocalReplyTopic(reply)) {
        this.gw.counters.refusedReplyTopics++
        return `response_topic must be ${topics.cmdReplyPrefix}<your client id>`
      }
      return null
    }
    if (topic.includes('/sim/') && payload.length && !/^-?\d+(\.\d+)?$/.test(payload.toString())) return 'a simulator argument is a number or empty'
    return null
  }

  /**
   * Replies to local requesters go out in process, past the ACL, so the requester may only
   * name a topic under this post's cmd-reply/ tree, one plain level deep: otherwise a
   * technician could make the gateway publish a fake alert or ack for them.
   * validate() already refused such requests before they ran; this is the last guard.
   */
  private localReply(topic: string, payload: Buffer): void {
    if (!this.isLocalReplyTopic(topic)) {
      this.gw.counters.refusedReplyTopics++
      this.gw.log.warn({ topic }, 'command reply topic refused: use <post>/cmd-reply/<your client id>')
      return
    }
    this.gw.broker.publish(topic, payload, 1, false)
  }

  private isLocalReplyTopic(topic: string): boolean {
    const prefix = this.gw.topics.cmdReplyPrefix
    const rest = topic.startsWith(prefix) ? topic.slice(prefix.length) : ''
    return rest !== '' && !/[/+#]/.test(rest)
  }

  private onSim(topic: string, payload: Buffer): void {
    const rel = this.gw.topics.relative(topic)
    if (!rel || rel.length !== 3) return
    const twin = this.gw.twins.get(rel[1])
    const known = [...this.gw.twins.keys()]
    const err = twin ? twin.act(rel[2], payload.length ? Number(payload.toString()) : undefined)
      : `no simulated device "${rel[1]}" on this post (${known.length ? `simulated: ${known.join(', ')}` : 'it runs no simulated devices'})`
    if (err) this.gw.log.warn({ device: rel[1], action: rel[2], err }, 'simulator command refused')
    // The answer `safehouse simulate` waits for (issue 14): refused commands exit nonzero there.
    const answer = { v: 1, device: rel[1], action: rel[2], ok: err === null, error: err }
    this.gw.broker.publish(this.gw.topics.simResult(rel[1], rel[2]), Buffer.from(JSON.stringify(answer)), 1, false)
  }
}
