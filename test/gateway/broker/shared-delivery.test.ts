/**
 * Issue 13 §4: the broker's shared delivery (one serialisation per PUBLISH,
 * one setImmediate per batch, PUBACKs without the generic parser) changes no
 * byte on the wire and keeps back-pressure.
 *
 * The same script runs against two aedes brokers built as the embedded broker
 * builds its connections (TCP_NODELAY, the packet-size guard), one with aedes'
 * own delivery and one with SharedDelivery, each client given the same first
 * packet id: MQTT 3.1.1 and 3.1 subscribers at QoS 0 and 1, overlapping and
 * exact-topic subscriptions (dedupe, aedes' downgrade), a retained message
 * sent on subscribe, live publishes with retain, dup, UTF-8 topics, string,
 * empty and 20 kB payloads, in-process publishes; PUBACKs one per write and
 * several per write. Every subscriber must receive the same bytes from both,
 * each PUBLISH as mqtt-packet generates it, with per-client packet ids. An
 * MQTT 5 CONNECT is refused, so no MQTT 5 PUBLISH is ever framed.
 * A subscriber that stops reading holds the publish until its socket drains
 * (aedes' waitForDrain), and is cut after the drain timeout.
 */
import t, { type Test } from 'tap'
import mqttPacket from 'mqtt-packet'
import type { AedesPublishPacket } from 'aedes'
import { WireClient, frames } from '../../harness/mqtt-wire-client.js'
import { sharedDeliveryBroker as broker, publishInProcess, openWire as open, type TestBroker } from '../../harness/shared-delivery-broker.js'
import { until } from '../../harness/until.js'

/** The script; returns each subscriber's client, once every one has the end marker and the broker every PUBACK. */
async function script(t: Test, b: TestBroker): Promise<Record<string, WireClient>> {
  await publishInProcess(b.aedes, { topic: 't/kept', payload: Buffer.from('kept'), qos: 1, retain: true })
  const subs: Record<string, WireClient> = {
    a: await open(t, b, { clientId: 'sub-a', protocolVersion: 4, acks: 'each' }),
    b: await open(t, b, { clientId: 'sub-b', protocolVersion: 4, acks: 'together' }),
    c: await open(t, b, { clientId: 'sub-c', protocolVersion: 3, acks: 'each' }),
    d: await open(t, b, { clientId: 'sub-d', protocolVersion: 4, acks: 'together' }),
  }
  await subs.a.subscribe(1, [{ topic: 't/#', qos: 1 }])
  await subs.b.subscribe(1, [{ topic: 't/#', qos: 0 }])
  await subs.c.subscribe(1, [{ topic: 't/+', qos: 1 }])
  // Overlapping: one delivery (dedupe); QoS 0 on the exact topic t/a downgrades t/a's deliveries (aedes).
  await subs.d.subscribe(1, [{ topic: 't/a', qos: 0 }, { topic: 't/#', qos: 1 }])
  await until(() => subs.a.publishes().length === 1 && subs.c.publishes().length === 1, 'the retained message on subscribe')

  await publishInProcess(b.aedes, { topic: 't/str', payload: 'a string payload', qos: 1 })
  await publishInProcess(b.aedes, { topic: 't/props', payload: Buffer.from('p'), qos: 1, properties: { userProperties: { a: 'b' } } } as Partial<AedesPublishPacket> & { payload: Buffer })
  await publishInProcess(b.aedes, { topic: 't/zero', payload: Buffer.from('z'), qos: 0 })
  const pub = await open(t, b, { clientId: 'pub', protocolVersion: 4, acks: 'each' })
  // One at a time (each once sub-a has it): aedes handles the packets of one read concurrently, so a
  // QoS 0 publish read with a QoS 1 one overtakes it, as TCP happens to cut the stream.
  const send = async (p: Partial<mqttPacket.IPublishPacket>): Promise<void> => {
    const had = subs.a.publishes().length
    pub.send({ cmd: 'publish', qos: 0, dup: false, retain: false, ...p } as mqttPacket.IPublishPacket)
    await until(() => subs.a.publishes().length > had, `sub-a: ${p.topic}`)
  }
  await send({ topic: 't/a', payload: Buffer.alloc(300, 0x61), qos: 1, messageId: 1 })
  await send({ topic: 't/b', payload: Buffer.from('zero') })
  await send({ topic: 't/c', payload: Buffer.from('retained live'), qos: 1, retain: true, messageId: 2 })
  await send({ topic: 't/a', payload: Buffer.alloc(20_000, 0x62), qos: 1, dup: true, messageId: 3 })
  await send({ topic: 't/é', payload: Buffer.alloc(0), qos: 1, messageId: 4 })
  // A burst in one write: same QoS, so handled in order; deliveries batch.
  pub.socket.write(Buffer.concat(Array.from({ length: 20 }, (_, i) => mqttPacket.generate({ cmd: 'publish', topic: 't/burst', payload: Buffer.from(`m${i}`), qos: 1, messageId: 10 + i, dup: false, retain: false }))))
  await until(() => subs.a.publishes().length === 9 + 20, 'sub-a: the burst')
  await send({ topic: 't/end', payload: Buffer.from('end') })
  for (const [name, c] of Object.entries(subs)) await until(() => c.publishes().some((p) => p.topic === 't/end'), `${name}: the end marker`)
  const acked = Object.values(subs).reduce((n, c) => n + c.publishes().filter((p) => p.qos === 1).length, 0)
  await until(() => b.pubacks() === acked, `the broker's ${acked} PUBACKs`)
  return subs
}

t.test('every subscriber receives the bytes aedes itself writes, each PUBLISH as mqtt-packet generates it', async (t) => {
  const plain = await broker(t, false)
  const shared = await broker(t, true)
  t.ok(shared.delivery.enabled, 'installed on aedes 1.2.0')
  const want = await script(t, plain)
  const got = await script(t, shared)
  t.equal(shared.pubacks(), plain.pubacks(), `the same ${plain.pubacks()} PUBACKs handled`)
  t.ok(shared.delivery.pubacks.taken > 0, `${shared.delivery.pubacks.taken} of them taken without aedes' handler (clean sessions, nothing listening to 'ack')`)
  t.equal(plain.delivery.pubacks.taken, 0, 'none without the shared delivery')
  for (const name of Object.keys(want)) {
    const w = want[name].bytes()
    const g = got[name].bytes()
    t.ok(g.equals(w), `${name}: ${g.length} bytes, identical to aedes' own (${w.length})`)
    const publishes = frames(g).filter((f) => f[0] >> 4 === 3)
    const parsed = got[name].publishes()
    t.equal(publishes.length, parsed.length)
    const v = name === 'c' ? 3 : 4
    t.ok(publishes.every((f, i) => f.equals(mqttPacket.generate(parsed[i], { protocolVersion: v }))), `${name}: each of ${publishes.length} PUBLISHes as mqtt-packet generates it (MQTT 3.1${v === 4 ? '.1' : ''})`)
    // aedes takes an id for each QoS 1 delivery, also one it then downgrades to QoS 0 (sub-d's t/a).
    const first = 1000 * (Object.keys(want).indexOf(name) + 1)
    const ids = parsed.filter((p) => p.qos === 1).map((p) => p.messageId!)
    t.ok(ids.length > 0 && ids[0] === first && ids.every((id, i) => i === 0 || id > ids[i - 1]) && ids[ids.length - 1] < first + 100, `${name}: its own packet ids, rising from ${first}`)
  }
  const a = got.a.publishes()
  t.same(a.map((p) => p.topic), ['t/kept', 't/str', 't/props', 't/zero', 't/a', 't/b', 't/c', 't/a', 't/é', ...Array<string>(20).fill('t/burst'), 't/end'], 'in publish order')
  t.same(a.map((p) => [p.qos, p.retain]).slice(0, 7), [[1, true], [1, false], [1, false], [0, false], [1, false], [0, false], [1, false]], 'retained on subscribe only; QoS as published')
  t.equal(a[7].dup, true, 'dup as published')
  // aedes sends a retained message on subscribe at its stored QoS, whatever QoS was granted (both brokers).
  t.ok(got.b.publishes().slice(1).every((p) => p.qos === 0), 'a QoS 0 subscription gets live messages at QoS 0')
  t.same(got.d.publishes().filter((p) => p.topic === 't/a').map((p) => p.qos), [0, 0], 'one delivery per message for overlapping filters, at the exact topic\'s QoS')
})

t.test('an MQTT 5 CONNECT is refused (CONNACK 1), so only MQTT 3.1/3.1.1 PUBLISHes are ever framed', async (t) => {
  const b = await broker(t, true)
  const { client } = await WireClient.open(b.port, { clientId: 'v5', protocolVersion: 5 })
  t.teardown(() => client.end())
  await until(() => client.closed, 'the broker closes the MQTT 5 connection')
  t.same([...client.bytes()], [0x20, 0x02, 0x00, 0x01], 'CONNACK 1, unacceptable protocol version, and nothing else')
})

/** Publishes 256 KiB QoS 1 messages in process, one at a time, until one is not done within a second. */
async function publishUntilHeld(b: TestBroker): Promise<{ sent: number; held: Promise<void> }> {
  for (let i = 0; i < 200; i++) {
    const p = publishInProcess(b.aedes, { topic: 'big/x', payload: Buffer.alloc(256 * 1024, i), qos: 1 })
    const held = await Promise.race([p.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 1000))])
    if (held) return { sent: i + 1, held: p }
  }
  throw new Error('200 publishes of 256 KiB never waited for the stopped subscriber')
}

function checkBig(t: Test, c: WireClient, n: number, first: number, what: string): void {
  const got = c.publishes()
  t.equal(got.length, n, `${what}: ${n} messages`)
  t.ok(got.every((p, i) => (p.payload as Buffer).length === 256 * 1024 && (p.payload as Buffer)[0] === (i & 0xff) && p.messageId === first + i), `${what}: each whole, in order, with its own id`)
}

t.test('a subscriber that stops reading holds the publish until its socket drains', async (t) => {
  const b = await broker(t, true)
  const slow = await open(t, b, { clientId: 'slow', protocolVersion: 4 })
  const fast = await open(t, b, { clientId: 'fast', protocolVersion: 4 })
  await slow.subscribe(1, [{ topic: 'big/#', qos: 1 }])
  await fast.subscribe(1, [{ topic: 'big/#', qos: 1 }])
  slow.socket.pause()
  const { sent, held } = await publishUntilHeld(b)
  const inner = b.client('slow')
  t.ok(inner._pendingDrains.length > 0, `publish ${sent} waits for the stopped subscriber's 'drain' (aedes' waitForDrain)`)
  slow.socket.resume()
  await held
  t.pass('the publish is done once the subscriber reads again')
  await until(() => slow.publishes().length === sent && fast.publishes().length === sent, 'both subscribers have every message', 30_000)
  checkBig(t, slow, sent, 1000, 'the slow subscriber')
  checkBig(t, fast, sent, 2000, 'the fast subscriber')
})

t.test('a subscriber that never reads again is cut after the drain timeout; the others go on', async (t) => {
  const b = await broker(t, true, { drainTimeout: 500 })
  const errors: string[] = []
  b.aedes.on('clientError', (c, err) => errors.push(`${c.id}: ${err.message}`))
  const slow = await open(t, b, { clientId: 'slow', protocolVersion: 4 })
  const fast = await open(t, b, { clientId: 'fast', protocolVersion: 4 })
  await slow.subscribe(1, [{ topic: 'big/#', qos: 1 }])
  await fast.subscribe(1, [{ topic: 'big/#', qos: 1 }])
  slow.socket.pause()
  // With a 500 ms drain timeout a publish is held at most that long: send until the stopped one is cut.
  let sent = 0
  while (!errors.includes('slow: drain timeout') && sent < 400) {
    await publishInProcess(b.aedes, { topic: 'big/x', payload: Buffer.alloc(256 * 1024, sent), qos: 1 })
    sent++
  }
  t.ok(errors.includes('slow: drain timeout'), `the stopped subscriber was cut after ${sent} publishes (drain timeout)`)
  await until(() => fast.publishes().length === sent, 'the fast subscriber has every message', 30_000)
  checkBig(t, fast, sent, 2000, 'the fast subscriber')
  await publishInProcess(b.aedes, { topic: 'big/x', payload: Buffer.alloc(256 * 1024, sent), qos: 1 })
  await until(() => fast.publishes().length === sent + 1, 'a later message')
  t.notOk((b.aedes as unknown as { clients: Record<string, unknown> }).clients.slow, 'the stopped subscriber is gone')
})
