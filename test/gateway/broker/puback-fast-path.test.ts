/**
 * Issue 13 §4: a clean session's PUBACKs are taken without aedes' handler
 * (gateway/broker/puback-fast-path.ts) and nothing changes that anyone can
 * see: two in one chunk, one split across reads (that one goes to aedes), one
 * for an id never sent; every later message still arrives with the next id;
 * a subscriber that only answers PUBACKs keeps its keepalive while a silent
 * one is cut; a listener on the broker's 'ack' event gets every PUBACK from
 * aedes; a persistent session's PUBACK clears its outgoing packet through
 * aedes' persistence, whole or split; garbage in place of or after PUBACKs
 * closes only its own connection.
 */
import t, { type Test } from 'tap'
import { connect } from 'node:net'
import { sharedDeliveryBroker as broker, publishInProcess, openWire as open, type TestBroker } from '../../harness/shared-delivery-broker.js'
import type { WireClient } from '../../harness/mqtt-wire-client.js'
import { until } from '../../harness/until.js'

const puback = (id: number): Buffer => Buffer.from([0x40, 0x02, id >> 8, id & 0xff])

/** Publishes `n` QoS 1 messages in process and waits until `c` has them; returns their packet ids. */
async function deliver(b: TestBroker, c: WireClient, n: number, topic = 'p/x'): Promise<number[]> {
  const had = c.publishes().length
  for (let i = 0; i < n; i++) await publishInProcess(b.aedes, { topic, payload: Buffer.from(`m${had + i}`), qos: 1 })
  await until(() => c.publishes().length === had + n, `${n} messages`)
  return c.publishes().slice(had).map((p) => p.messageId!)
}

/** The outgoing packets aedes' persistence holds for a client id. */
async function outgoing(b: TestBroker, id: string): Promise<number[]> {
  const ids: number[] = []
  const stream = (b.aedes as unknown as { persistence: { outgoingStream(c: { id: string }): AsyncIterable<{ messageId: number }> } }).persistence.outgoingStream({ id })
  for await (const p of stream) ids.push(p.messageId)
  return ids
}

t.test('a clean session\'s PUBACKs: two in one chunk, one split across reads, an unknown id; nothing lost after', async (t) => {
  const b = await broker(t, true)
  const c = await open(t, b, { clientId: 'clean', protocolVersion: 4, acks: 'none' })
  await c.subscribe(1, [{ topic: 'p/#', qos: 1 }])
  const [id1, id2, id3] = await deliver(b, c, 3)
  t.same([id1, id2, id3], [1000, 1001, 1002], 'ids from the client\'s own counter')

  c.socket.write(Buffer.concat([puback(id1), puback(id2)]))
  await until(() => b.delivery.pubacks.taken === 2, 'two PUBACKs in one chunk taken')
  t.pass('two PUBACKs in one chunk: taken without aedes\' handler')

  const whole = puback(id3)
  c.socket.write(whole.subarray(0, 2))
  await until(() => b.client('clean')._parser.packet.length === 2, 'the parser holds the first half')
  c.socket.write(whole.subarray(2))
  await until(() => b.parsedPubacks() === 1, 'the split PUBACK parsed by aedes')
  t.equal(b.delivery.pubacks.taken, 2, 'a PUBACK split across reads goes to aedes')

  c.socket.write(puback(4242))
  await until(() => b.delivery.pubacks.taken === 3, 'the PUBACK for an unknown id')
  t.pass('a PUBACK for an id never sent is taken as aedes would (nothing to remove)')

  const later = await deliver(b, c, 2)
  t.same(later, [1003, 1004], 'later messages arrive, ids rising')
  t.notOk(c.closed, 'the connection stays')
})

t.test('a subscriber that only sends PUBACKs keeps its keepalive; a silent one is cut', async (t) => {
  const b = await broker(t, true)
  const acking = await open(t, b, { clientId: 'acking', protocolVersion: 4, acks: 'each', keepalive: 1 })
  const silent = await open(t, b, { clientId: 'silent', protocolVersion: 4, acks: 'none', keepalive: 1 })
  await acking.subscribe(1, [{ topic: 'p/#', qos: 1 }])
  await silent.subscribe(1, [{ topic: 'p/#', qos: 1 }])
  // aedes cuts a client after 1.5 x keepalive without a packet; a message every 250 ms for 3 s.
  const start = Date.now()
  while (Date.now() - start < 3000) {
    await publishInProcess(b.aedes, { topic: 'p/k', payload: Buffer.from('k'), qos: 1 })
    await new Promise((r) => setTimeout(r, 250))
  }
  await until(() => silent.closed, 'the silent subscriber is cut')
  t.ok(silent.closed, 'the silent one is cut after its keepalive')
  t.notOk(acking.closed, 'the one answering PUBACKs is still connected after 3 s (2 x its keepalive)')
  t.ok(b.delivery.pubacks.taken >= 6, `its ${b.delivery.pubacks.taken} PUBACKs were taken without aedes' handler, each refreshing the keepalive`)
})

t.test('with a listener on the broker\'s \'ack\' event every PUBACK goes to aedes and is emitted', async (t) => {
  const b = await broker(t, true)
  let acks = 0
  b.aedes.on('ack', () => { acks++ })
  const c = await open(t, b, { clientId: 'clean', protocolVersion: 4, acks: 'together' })
  await c.subscribe(1, [{ topic: 'p/#', qos: 1 }])
  await deliver(b, c, 5)
  await until(() => acks === 5, 'five acks emitted')
  t.equal(b.delivery.pubacks.taken, 0, 'none taken past aedes')
  t.equal(b.parsedPubacks(), 5, 'all five parsed and handled by aedes')
})

t.test('a persistent session\'s PUBACK clears its outgoing packet through aedes\' persistence, whole or split', async (t) => {
  const b = await broker(t, true)
  const c = await open(t, b, { clientId: 'kept', protocolVersion: 4, acks: 'none', clean: false })
  await c.subscribe(1, [{ topic: 'p/#', qos: 1 }])
  const [id1, id2] = await deliver(b, c, 2)
  t.same(await outgoing(b, 'kept'), [id1, id2], 'both held in the outgoing store until acknowledged')
  c.socket.write(puback(id1))
  await until(() => b.parsedPubacks() === 1, 'the whole PUBACK parsed by aedes')
  const whole = puback(id2)
  c.socket.write(whole.subarray(0, 3))
  await until(() => b.client('kept')._parser.packet.length === 2, 'the parser holds the first part')
  c.socket.write(whole.subarray(3))
  await until(() => b.parsedPubacks() === 2, 'the split PUBACK parsed by aedes')
  t.same(await outgoing(b, 'kept'), [], 'both removed from the outgoing store')
  t.equal(b.delivery.pubacks.taken, 0, 'none taken past aedes')
})

t.test('garbage in place of or after PUBACKs closes only its own connection', async (t) => {
  const b = await broker(t, true)
  const good = await open(t, b, { clientId: 'good', protocolVersion: 4 })
  await good.subscribe(1, [{ topic: 'p/#', qos: 1 }])
  const garbage = [
    Buffer.concat([puback(1), Buffer.from([0x00, 0x00, 0x00, 0x00])]), // a reserved packet type after a PUBACK
    Buffer.from([0x40, 0x03, 0x00, 0x01]), // a PUBACK announcing 3 bytes
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]), // a Remaining Length of five bytes
    Buffer.from([0x40, 0x02, 0x00, 0x01, 0x40]), // a PUBACK and a stray byte
  ]
  for (const [i, bytes] of garbage.entries()) {
    const bad = await open(t, b, { clientId: `bad-${i}`, protocolVersion: 4 })
    await bad.subscribe(1, [{ topic: 'p/#', qos: 1 }])
    bad.socket.write(bytes)
    const ids = await deliver(b, good, 1)
    t.equal(ids.length, 1, `after garbage ${i + 1}: the good subscriber still gets its message`)
  }
  // Raw bytes before any CONNECT, too.
  const raw = connect(b.port, '127.0.0.1')
  raw.on('error', () => {})
  await new Promise<void>((r) => raw.once('connect', () => r()))
  raw.write(Buffer.concat([puback(1), puback(2)]))
  await new Promise<void>((r) => raw.once('close', () => r()))
  t.pass('PUBACKs before CONNECT: aedes closes the connection')
  t.notOk(good.closed, 'the good subscriber is still connected')
  t.equal((await deliver(b, good, 1)).length, 1, 'and still gets messages')
})
