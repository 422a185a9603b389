/**
 * aedes on loopback with each connection made as the embedded broker makes it
 * (TCP_NODELAY, the packet-size guard), with or without the shared delivery
 * (issue 13 §4): the brokers test/gateway/broker/shared-delivery.test.ts and
 * puback-fast-path.test.ts compare and probe. The n-th client's first packet
 * id is 1000 n, so the two brokers of a comparison number alike.
 *
 * PUBACKs are counted without a listener on the broker's 'ack' event (one
 * turns the clean-session fast path off): those aedes parses, seen on each
 * client's parser, plus those the fast path took (`delivery.pubacks.taken`).
 */
import type { Test } from 'tap'
import { createServer, type Socket } from 'node:net'
import type mqttPacket from 'mqtt-packet'
import { Aedes, type AedesOptions, type AedesPublishPacket, type Client } from 'aedes'
import { PacketSizeGuard } from '../../gateway/broker/packet-size-guard.js'
import { SharedDelivery } from '../../gateway/broker/shared-delivery.js'
import { WireClient, type WireOptions } from './mqtt-wire-client.js'

export interface TestBroker {
  aedes: Aedes
  port: number
  delivery: SharedDelivery
  /** PUBACKs aedes parsed (and handled) plus those the fast path took. */
  pubacks: () => number
  /** PUBACKs aedes parsed. */
  parsedPubacks: () => number
  /** aedes' Client of a client id. */
  client: (id: string) => InnerClient
}

/** What the tests read of aedes' Client. */
export interface InnerClient {
  /** mqtt-packet's parser: `packet.length` is -1 between packets, the Remaining Length once a header is read. */
  _parser: { packet: { length: number } }
  _pendingDrains: unknown[]
}

export async function sharedDeliveryBroker(t: Test, shared: boolean, opts: Partial<AedesOptions> = {}): Promise<TestBroker> {
  const aedes = await Aedes.createBroker(opts)
  const delivery = new SharedDelivery(aedes)
  let n = 0
  let parsed = 0
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.setNoDelay(true)
    const guard = new PacketSizeGuard(socket, 1 << 24, () => {})
    guard.on('error', () => {})
    const client = aedes.handle(guard)
    ;(client as unknown as { _nextId: number })._nextId = 1000 * ++n
    if (shared) delivery.install(client)
    ;(client as unknown as { _parser: { on(e: 'packet', f: (p: mqttPacket.Packet) => void): void } })._parser.on('packet', (p) => { if (p.cmd === 'puback') parsed++ })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => new Promise<void>((r) => {
    for (const s of sockets) s.destroy()
    server.close(() => aedes.close(() => r()))
  }))
  return {
    aedes,
    port: (server.address() as { port: number }).port,
    delivery,
    pubacks: () => parsed + delivery.pubacks.taken,
    parsedPubacks: () => parsed,
    client: (id) => (aedes as unknown as { clients: Record<string, Client> }).clients[id] as unknown as InnerClient,
  }
}

export function publishInProcess(aedes: Aedes, p: Partial<AedesPublishPacket> & { payload: unknown }): Promise<void> {
  return new Promise((resolve, reject) => aedes.publish({ cmd: 'publish', dup: false, retain: false, qos: 0, ...p } as AedesPublishPacket, (err?: Error) => (err ? reject(err) : resolve())))
}

/** A WireClient, connected (CONNACK 0) and closed at the test's end. */
export async function openWire(t: Test, b: TestBroker, o: WireOptions): Promise<WireClient> {
  const { client, connack } = await WireClient.open(b.port, o)
  t.teardown(() => client.end())
  if (connack?.returnCode !== 0) throw new Error(`${o.clientId}: CONNACK ${connack?.returnCode}`)
  return client
}
