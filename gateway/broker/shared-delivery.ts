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
 *    broker.authorizeForward (as aedes, before its setImmediate); nothing to
 *    forward calls back in the next setImmediate;
 *  - in one setImmediate for every delivery queued meanwhile, in queue order:
 *    the QoS downgrade to the client's subscription on that exact topic, a packet
 *    id from client._nextId (QoSPacket), and the write: the frame of this
 *    (topic, payload, header byte) built once (publish-frame.ts) and, for
 *    QoS > 0, copied with the id; one conn.write() per delivery;
 *  - the write's outcome as aedes: a closed client gets 'connection closed',
 *    a full socket waits for 'drain' (client.waitForDrain, so the drain timeout
 *    and mqemitter's back-pressure hold), else the callback runs in the next
 *    setImmediate (again one for the batch). Both batches: immediate-batch.ts.
 * A client without a clean session (its QoS > 0 deliveries go through
 * persistence first) keeps aedes' own functions, as does anything the frame
 * cannot hold (mqtt-packet writes it, as aedes would). Packets are MQTT 3.1/3.1.1
 * only: aedes 1.2.0 refuses MQTT 5 at CONNECT.
 *
 * PUBACKs: puback-fast-path.ts (a clean session's whole PUBACKs without aedes'
 * handler, others without mqtt-packet's parser), offered each chunk by the
 * packet-size guard before it reaches aedes.
 */
import type { Aedes, Client } from 'aedes'
import mqttPacket from 'mqtt-packet'
import { PublishFrames } from './publish-frame.js'
import { ImmediateBatch } from './immediate-batch.js'
import { PacketSizeGuard } from './packet-size-guard.js'
import { installPubackFastPath, takePubacks, type PubackCounts } from './puback-fast-path.js'
import { AEDES_VERSION, type AedesClient, type Callback, type ForwardPacket } from './aedes-internals.js'

export { AEDES_VERSION }

const SKIP = 0
const QOS0 = 1
const QOS = 2
type Kind = typeof SKIP | typeof QOS0 | typeof QOS

/** One delivery: queued for the write, then (the same object) for its callback. */
interface Delivery {
  client: AedesClient
  packet: ForwardPacket | null
  kind: Kind
  cb: Callback
  err: Error | null
}

export class SharedDelivery {
  private readonly frames = new PublishFrames()
  /** Deliveries queued since the last flush (aedes: a setImmediate each). */
  private readonly deliveries = new ImmediateBatch<Delivery>((batch) => this.flush(batch))
  /** Write outcomes waiting for their callbacks (aedes: a setImmediate each). */
  private readonly outcomes = new ImmediateBatch<Delivery>((batch) => { for (const d of batch) complete(d) })
  /** PUBACKs handled without aedes' handler (puback-fast-path.ts). */
  readonly pubacks: PubackCounts = { taken: 0 }
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
      // Nothing to send: aedes calls back in the next setImmediate.
      if (toForward) this.deliveries.add({ client, packet: toForward, kind: QOS0, cb, err: null })
      else this.outcomes.add({ client, packet: null, kind: SKIP, cb, err: null })
    }
    client.deliverQoS = (packet, cb) => {
      if (packet.qos === 0) return client.deliver0(packet, cb) // aedes: downgraded by the publish
      if (!client.clean) return aedesQoS(packet, cb)
      const toForward = forwardable(client, packet)
      // Nothing to send: aedes calls back in the next setImmediate.
      if (toForward) this.deliveries.add({ client, packet: toForward, kind: QOS, cb, err: null })
      else this.outcomes.add({ client, packet: null, kind: SKIP, cb, err: null })
    }
    const counts = this.pubacks
    installPubackFastPath(client._parser, client, counts)
    const conn = client.conn as unknown
    if (conn instanceof PacketSizeGuard) conn.takeWholePackets = (chunk) => takePubacks(client, chunk, counts)
  }

  /** The deliveries queued since the last flush, in order (aedes' per-delivery setImmediate). */
  private flush(batch: readonly Delivery[]): void {
    for (let i = 0; i < batch.length; i++) {
      const d = batch[i]
      if (d.kind === SKIP || d.packet === null) this.outcomes.add(d)
      else this.write(d, d.packet)
    }
    this.frames.clear()
  }

  /** aedes' deliver0 / QoSPacket + writeQoS / write(), for one delivery. */
  private write(d: Delivery, p: ForwardPacket): void {
    const client = d.client
    let qos = 0
    let messageId: number | undefined
    if (d.kind === QOS) {
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
    if (!client.connecting && !client.connected) return this.fail(d, new Error('connection closed'))
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
      return this.fail(d, new Error('packet received not valid'))
    }
    if (!result && !client.errored) {
      client.waitForDrain((err) => {
        d.err = err ?? null
        complete(d)
      })
      return
    }
    this.outcomes.add(d)
  }

  private fail(d: Delivery, err: Error): void {
    d.err = err
    this.outcomes.add(d)
  }
}

const EMPTY = Buffer.alloc(0)

/** After the write, as aedes: QoS 0 errors close the client, QoS > 0 errors are emitted; mqemitter's callback always runs. */
function complete(d: Delivery): void {
  if (d.kind === QOS0) d.client._onError(d.err)
  else if (d.kind === QOS && d.err) d.client.emit('error', d.err)
  const cb = d.cb // called as aedes calls it, without a `this`
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
