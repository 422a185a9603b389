/**
 * aedes' delivery to clean-session subscribers, with one serialisation per
 * PUBLISH and one setImmediate per batch (issue 13 §4).
 *
 * aedes 1.2.0 (lib/client.js `deliver0`/`deliverQoS`, lib/write.js) makes, per
 * subscriber and per message: a setImmediate, a second Packet copy (a
 * QoSPacket with a bound callback), a fresh serialisation by mqtt-packet in ~6
 * corked pieces, and a second setImmediate for the write's callback. Profiled
 * at 100 subscribers that was the larger part of the broker's user time
 * (bench/RESULTS.md, helper i13f). aedes has no option for either: its
 * `concurrency` only bounds how many messages mqemitter has in flight.
 *
 * Installed on each Client that aedes.handle() returns, before it can
 * subscribe (its subscriptions capture client.deliverQoS/deliver0). Per
 * delivery it does what aedes does, in the same order per client:
 *  - synchronously: the No Local check, dedupe by broker id/counter and
 *    broker.authorizeForward (as aedes, before its setImmediate);
 *  - in one setImmediate for every delivery queued meanwhile, in queue order:
 *    the QoS downgrade to the client's subscription on that exact topic, a packet
 *    id from client._nextId (QoSPacket), and the write: the frame of this
 *    (topic, payload, header byte) built once (publish-frame.ts) and, for
 *    QoS > 0, copied with the id; one conn.write() per delivery;
 *  - the write's outcome as aedes: a closed client gets 'connection closed',
 *    a full socket waits for 'drain' (client.waitForDrain, so the drain timeout
 *    and mqemitter's back-pressure hold), else the callback runs in the next
 *    setImmediate (again one for the batch).
 * A client without a clean session (its QoS > 0 deliveries go through
 * persistence first) keeps aedes' own functions, as does anything the frame
 * cannot hold (mqtt-packet writes it, as aedes would). Packets are MQTT 3.1/3.1.1
 * only: aedes 1.2.0 refuses MQTT 5 at CONNECT.
 *
 * Also here: PUBACKs that arrive whole and alone in a chunk skip mqtt-packet's
 * generic parser (its `bl` list and debug calls: 18 % of the broker's user
 * time at 100 subscribers) and are emitted as the packet object the parser would
 * have emitted, to the same listener, synchronously within the same parse().
 */
import type { Aedes, Client } from 'aedes'
import mqttPacket from 'mqtt-packet'
import { PublishFrames } from './publish-frame.js'

/** The aedes release whose internals this module was written against and tested with. */
export const AEDES_VERSION = '1.2.0'

type Callback = (err?: Error | null) => void
type Deliver = (packet: ForwardPacket, cb: Callback) => void

/** An aedes-packet Packet as mqemitter hands it to a subscription. */
interface ForwardPacket {
  cmd?: string
  topic: unknown
  payload: unknown
  qos: number
  retain: boolean
  dup: boolean
  messageId?: number
  brokerId?: string | null
  brokerCounter?: number
  clientId?: string
  nl?: boolean
  properties?: unknown
}

/** What this module reads and replaces of aedes 1.2.0's Client (lib/client.js). */
interface AedesClient {
  id: string | null
  clean: boolean
  connecting: boolean
  connected: boolean
  errored: boolean
  conn: { write(chunk: Buffer): boolean }
  broker: { authorizeForward(client: AedesClient, packet: ForwardPacket): ForwardPacket | null | undefined | false }
  subscriptions: Record<string, { qos?: number } | undefined>
  duplicates: Record<string, number>
  _nextId: number
  _parser: MqttParser
  deliver0: Deliver
  deliverQoS: Deliver
  _onError(err?: Error | null): void
  emit(event: 'error', err: Error): boolean
  waitForDrain(cb: Callback): void
}

/** mqtt-packet 9.0.2's Parser, as far as the PUBACK fast path needs it. */
interface MqttParser {
  parse(buf: Buffer): number
  emit(event: 'packet', packet: object): boolean
  error: Error | null
  packet: { length: number; constructor: new () => { cmd: string | null; length: number; messageId?: number } }
  settings: { protocolVersion?: number }
  _list: { length: number }
  _stateCounter: number
}

const SKIP = 0
const QOS0 = 1
const QOS = 2
type Kind = typeof SKIP | typeof QOS0 | typeof QOS

export class SharedDelivery {
  private readonly frames = new PublishFrames()
  private clients: AedesClient[] = []
  private packets: (ForwardPacket | null)[] = []
  private kinds: Kind[] = []
  private callbacks: Callback[] = []
  private scheduled = false
  /** Write outcomes waiting for the next setImmediate: client, kind, callback, error. */
  private doneClients: AedesClient[] = []
  private doneKinds: Kind[] = []
  private doneCallbacks: Callback[] = []
  private doneErrors: (Error | null)[] = []
  private doneScheduled = false
  readonly enabled: boolean
  /** The running aedes release (its `version` getter, absent from its typings). */
  readonly aedesVersion: string

  constructor(aedes: Aedes) {
    this.aedesVersion = String((aedes as unknown as { version?: string }).version)
    this.enabled = this.aedesVersion === AEDES_VERSION
  }

  /** Replaces the client's delivery functions and PUBACK parsing; a no-op on another aedes release. */
  install(c: Client): void {
    if (!this.enabled) return
    const client = c as unknown as AedesClient
    const aedes0 = client.deliver0
    const aedesQoS = client.deliverQoS
    client.deliver0 = (packet, cb) => {
      if (!client.clean) return aedes0(packet, cb)
      const toForward = forwardable(client, packet)
      if (toForward) this.enqueue(client, toForward, QOS0, cb)
      else this.enqueue(client, null, SKIP, cb)
    }
    client.deliverQoS = (packet, cb) => {
      if (packet.qos === 0) return client.deliver0(packet, cb) // aedes: downgraded by the publish
      if (!client.clean) return aedesQoS(packet, cb)
      const toForward = forwardable(client, packet)
      if (toForward) this.enqueue(client, toForward, QOS, cb)
      else this.enqueue(client, null, SKIP, cb)
    }
    installPubackFastPath(client._parser)
  }

  private enqueue(client: AedesClient, packet: ForwardPacket | null, kind: Kind, cb: Callback): void {
    this.clients.push(client)
    this.packets.push(packet)
    this.kinds.push(kind)
    this.callbacks.push(cb)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.flush)
    }
  }

  /** The deliveries queued since the last flush, in order (aedes' per-delivery setImmediate). */
  private readonly flush = (): void => {
    const { clients, packets, kinds, callbacks } = this
    this.clients = []
    this.packets = []
    this.kinds = []
    this.callbacks = []
    this.scheduled = false
    for (let i = 0; i < clients.length; i++) {
      const kind = kinds[i]
      const packet = packets[i]
      if (kind === SKIP || packet === null) this.done(clients[i], SKIP, callbacks[i], null)
      else this.write(clients[i], packet, kind, callbacks[i])
    }
    this.frames.clear()
  }

  /** aedes' deliver0 / QoSPacket + writeQoS / write(), for one delivery. */
  private write(client: AedesClient, p: ForwardPacket, kind: Kind, cb: Callback): void {
    let qos = 0
    let messageId: number | undefined
    if (kind === QOS) {
      qos = p.qos || 0
      // QoSPacket: the original's id, or the client's next one.
      if (!p.messageId) {
        messageId = client._nextId
        client._nextId = client._nextId >= 65535 ? 1 : client._nextId + 1
      } else {
        messageId = p.messageId
      }
      // aedes downgrades to the subscription registered on the packet's own topic, if any.
      const sub = client.subscriptions[p.topic as string]
      if (sub && (sub.qos || 0) < qos) qos = sub.qos || 0
    }
    if (!client.connecting && !client.connected) return this.done(client, kind, cb, new Error('connection closed'))
    let result: boolean
    try {
      const dup = p.dup || false
      const retain = p.retain || false
      const frame = this.frames.frame(p.topic, p.payload, qos, dup, retain)
      if (frame === null) {
        // As aedes would: mqtt-packet writes it (or refuses it, destroying the stream).
        const packet = { cmd: 'publish', topic: p.topic, payload: p.payload || EMPTY, qos, retain, dup, messageId, properties: p.properties }
        result = mqttPacket.writeToStream(packet as mqttPacket.IPublishPacket, client.conn as unknown as NodeJS.WritableStream)
      } else {
        result = client.conn.write(qos > 0 ? this.frames.withId(frame, messageId!) : frame)
      }
    } catch {
      return this.done(client, kind, cb, new Error('packet received not valid'))
    }
    if (!result && !client.errored) {
      client.waitForDrain((err) => complete(client, kind, cb, err ?? null))
      return
    }
    this.done(client, kind, cb, null)
  }

  /** aedes calls a write's callback in a setImmediate; one for the batch here. */
  private done(client: AedesClient, kind: Kind, cb: Callback, err: Error | null): void {
    this.doneClients.push(client)
    this.doneKinds.push(kind)
    this.doneCallbacks.push(cb)
    this.doneErrors.push(err)
    if (!this.doneScheduled) {
      this.doneScheduled = true
      setImmediate(this.finish)
    }
  }

  private readonly finish = (): void => {
    const { doneClients, doneKinds, doneCallbacks, doneErrors } = this
    this.doneClients = []
    this.doneKinds = []
    this.doneCallbacks = []
    this.doneErrors = []
    this.doneScheduled = false
    for (let i = 0; i < doneClients.length; i++) complete(doneClients[i], doneKinds[i], doneCallbacks[i], doneErrors[i])
  }
}

const EMPTY = Buffer.alloc(0)

/** After the write, as aedes: QoS 0 errors close the client, QoS > 0 errors are emitted; mqemitter's callback always runs. */
function complete(client: AedesClient, kind: Kind, cb: Callback, err: Error | null): void {
  if (kind === QOS0) client._onError(err)
  else if (kind === QOS && err) client.emit('error', err)
  cb()
}

/** aedes' getToForwardPacket: No Local ([MQTT-3.8.3-3]), dedupe by broker id and counter, authorizeForward. */
function forwardable(client: AedesClient, packet: ForwardPacket): ForwardPacket | null | undefined | false {
  if (packet.clientId === client.id && packet.nl) return undefined
  const id = packet.brokerId
  if (id) {
    const counter = packet.brokerCounter ?? 0
    if (!((client.duplicates[id] || 0) < counter)) return false
    client.duplicates[id] = counter
  }
  return client.broker.authorizeForward(client, packet)
}

/**
 * A chunk made only of whole MQTT 3.1.1 PUBACKs (0x40 0x02 id id, [MQTT-3.4]), arriving while the
 * parser holds nothing, is emitted packet by packet as mqtt-packet's parser would (same object shape,
 * same 'packet' listener, synchronously); anything else goes to the parser.
 */
function installPubackFastPath(parser: MqttParser): void {
  const parse = parser.parse
  parser.parse = function fastParse(this: MqttParser, buf: Buffer): number {
    const n = buf.length
    if (n === 0 || (n & 3) !== 0 || this.error !== null || this._list.length !== 0 || this._stateCounter !== 0 ||
        this.packet.length !== -1 || this.settings.protocolVersion === 5) return parse.call(this, buf)
    for (let i = 0; i < n; i += 4) if (buf[i] !== 0x40 || buf[i + 1] !== 0x02) return parse.call(this, buf)
    const Packet = this.packet.constructor
    for (let i = 0; i < n; i += 4) {
      const packet = new Packet()
      packet.cmd = 'puback'
      packet.length = 2
      packet.messageId = (buf[i + 2] << 8) | buf[i + 3]
      this.emit('packet', packet)
    }
    return 0
  }
}
