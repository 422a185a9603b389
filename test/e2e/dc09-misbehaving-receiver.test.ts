/**
 * Issue 17 §4: a receiving centre that misbehaves. Garbage, oversize frames,
 * replies with the wrong key, sequence or account, a NAK storm, DUH, a
 * half-open TCP connection: each is counted, nothing crashes, and no alert
 * leaves the DC-09 queue without the matching ACK.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { testGateway, until } from '../harness/test-gateway.js'
import { startPeer, type Script } from '../harness/dc09-peer.js'
import { Kind } from '../../protocols/event-kinds.js'
import { createSocket } from 'node:dgram'
import { MAX_FRAME_BYTES, buildFrame, parseFrame } from '../../protocols/dc09/frame.js'
import { offlineReceiver } from '../harness/iobroker-sia.js'

const ACCOUNT = '1234'

async function rig(t: { teardown(fn: () => Promise<void>): void }, script: Script, o: { key?: Buffer; dc09?: Record<string, unknown> } = {}) {
  const key = o.key ?? null
  const peer = await startPeer(key ? { accountnumber: ACCOUNT, aes: true, hex: true, password: key.toString('hex') } : { accountnumber: ACCOUNT }, key, script)
  const { gw, cleanup } = await testGateway({
    dc09Keys: key ? { arc: key.toString('hex') } : {},
    extra: { dc09: { enabled: true, account: ACCOUNT, primary: `127.0.0.1:${peer.port}`, key_ref: key ? 'arc' : null, ack_timeout_ms: 400, attempts: 3, retry_pause_ms: 100, null_poll_s: 0, ...o.dc09 } },
  })
  t.teardown(async () => { await cleanup(); await peer.close() })
  await gw.start()
  const dc = gw.dc09!
  const raise = (n: number) => { for (let i = 0; i < n; i++) gw.core.input(1 + (i % 3), Kind.PANIC, i, Date.now(), Number.NaN, 5000 + i) }
  return { gw, dc, peer, raise }
}

t.test('garbage, an oversize frame, wrong sequence, wrong account and wrong key before the real ACK: counted, then delivered once', async (t) => {
  const key = randomBytes(16)
  const { dc, peer, raise } = await rig(t, (m, nth, r) => {
    if (nth === 1) {
      r.raw(Buffer.from('\x00\xff garbage \x7f'))
      r.raw(Buffer.concat([Buffer.from('\n'), Buffer.alloc(MAX_FRAME_BYTES + 100, 0x41), Buffer.from('\r')]))
      r.custom({ token: 'ACK', seq: (Number(m.msg.seq) % 9999) + 1 })
      r.custom({ token: 'ACK', account: 'FFF' })
      r.custom({ token: 'ACK', key: randomBytes(16) })
      r.custom({ token: 'ACK', key: null })
    }
    r.ack()
  }, { key })
  raise(3)
  await until(() => dc.sender.counters.acked === 3, 'three ACKs')
  const c = dc.sender.counters
  t.equal(c.oversize, 3, 'one oversize frame per message, dropped and counted')
  t.ok(c.garbage >= 6, `garbage bytes and wrong-key replies counted (${c.garbage})`)
  t.equal(c.mismatched, 9, 'wrong sequence, wrong account, plain reply to an encrypted message: counted per message')
  t.equal(c.retries, 0, 'the real ACK behind them was taken at once')
  t.equal(dc.outbox.stats().depth, 0)
  t.equal(peer.messages.length, 3, 'each alert sent once')
})

t.test('a NAK storm: each NAKed message is repeated with the same sequence number and a fresh timestamp until ACKed; nothing lost', async (t) => {
  const { dc, peer, raise } = await rig(t, (_m, nth, r) => (nth <= 5 ? r.nak() : r.ack()))
  raise(3)
  await until(() => dc.sender.counters.acked === 3, 'three ACKs after the storm', 20_000)
  t.equal(dc.sender.counters.nak, 15)
  t.equal(dc.outbox.stats().depth, 0)
  const seqs = [...new Set(peer.messages.map((m) => m.msg.seq))]
  t.equal(seqs.length, 3, 'three sequence numbers')
  for (const s of seqs) t.equal(peer.messages.filter((m) => m.msg.seq === s).length, 6, `seq ${s}: 5 NAKs + 1 ACK`)
  for (let i = 1; i < peer.messages.length; i++) t.ok(peer.messages[i].at >= peer.messages[i - 1].at)
  t.ok(peer.messages.every((m) => m.msg.timestamp !== null), 'every repeat carries a timestamp')
})

t.test('a half-open connection (accepted, never answered): repeated over a fresh connection, delivered', async (t) => {
  const { dc, peer, raise } = await rig(t, (m, _nth, r) => (m.conn === 1 ? r.hang() : r.ack()))
  raise(2)
  await until(() => dc.sender.counters.acked === 2, 'delivered after the hang')
  t.ok(dc.sender.counters.retries >= 1)
  t.ok(peer.connections >= 2, 'a new connection after the silent one')
  t.equal(dc.outbox.stats().depth, 0)
})

t.test('DUH: counted and reported, the refused alert leaves the DC-09 queue, the next one is delivered', async (t) => {
  const { gw, dc, raise } = await rig(t, (_m, _nth, r) => (dc.sender.counters.duh === 0 ? r.duh() : r.ack()))
  raise(2)
  await until(() => dc.sender.counters.duh === 1 && dc.sender.counters.acked === 1, 'one DUH, one ACK')
  const s = gw.gatewayState() as { dc09: { last_duh: string | null }; counters: Record<string, number> }
  t.equal(s.counters.dc09_duh, 1)
  t.match(s.dc09.last_duh, /^test-city:kiosk-001:/)
  t.equal(dc.outbox.stats().depth, 0)
})

t.test('supervision: NULL polls while idle, at most null_poll_s apart, ACKed by sequence', async (t) => {
  const { dc, peer } = await rig(t, (_m, _nth, r) => r.ack(), { dc09: { null_poll_s: 1 } })
  await until(() => dc.sender.counters.poll_acks >= 3, 'three polls ACKed', 10_000)
  const polls = peer.messages.filter((m) => m.msg.token === 'NULL')
  t.ok(polls.length >= 3)
  const gaps = polls.slice(1).map((m, i) => m.at - polls[i].at)
  // A poll follows the last ACK by null_poll_s: 1 s plus the round trip and the loaded machine's timer slack.
  for (const g of gaps) t.ok(g >= 900 && g < 1900, `poll gap ${g} ms`)
  t.equal(dc.sender.state, 'up')
})

t.test('UDP: a garbage datagram, an oversize datagram and a wrong-sequence ACK before the real one: counted, delivered once', async (t) => {
  const sia = offlineReceiver([{ accountnumber: ACCOUNT }], 0)
  const server = createSocket('udp4')
  const seen: string[] = []
  server.on('message', (msg, r) => {
    const p = parseFrame(msg, () => null)
    if (!p.ok) throw new Error(p.error)
    seen.push(p.value.seq)
    const send = (b: Buffer) => server.send(b, r.port, r.address)
    if (seen.length === 1) {
      send(Buffer.from('\x00\x01 not a frame'))
      send(Buffer.concat([Buffer.from('\n'), Buffer.alloc(MAX_FRAME_BYTES + 10, 0x41), Buffer.from('\r')]))
      const wrong = buildFrame({ token: 'ACK', encrypted: false, seq: (Number(p.value.seq) % 9999) + 1, receiver: null, prefix: '0', account: ACCOUNT, data: '', time: Date.now(), key: null })
      if (wrong.ok) send(wrong.value)
    }
    send(sia.createACK(sia.parseSIA(msg)))
  })
  await new Promise<void>((res) => server.bind(0, '127.0.0.1', () => res()))
  const { gw, cleanup } = await testGateway({ extra: { dc09: { enabled: true, account: ACCOUNT, protocol: 'udp', primary: `127.0.0.1:${server.address().port}`, ack_timeout_ms: 400, null_poll_s: 0 } } })
  t.teardown(async () => { await cleanup(); server.close() })
  await gw.start()
  const dc = gw.dc09!
  gw.core.input(1, Kind.PANIC, 1, Date.now(), Number.NaN, -1)
  gw.core.input(2, Kind.PANIC, 1, Date.now(), Number.NaN, -1)
  await until(() => dc.sender.counters.acked === 2, 'two ACKs over UDP')
  t.equal(dc.sender.counters.oversize, 1)
  t.ok(dc.sender.counters.garbage >= 1)
  t.equal(dc.sender.counters.mismatched, 1)
  t.equal(seen.length, 2, 'each alert sent once')
  t.equal(dc.outbox.stats().depth, 0)
})
