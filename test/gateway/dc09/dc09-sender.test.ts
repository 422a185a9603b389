/**
 * The DC-09 sender's state machine on a fake clock and an in-memory
 * transport (issue 17 §3): sequence numbers, failover and return to the
 * primary, the supervision bound, and that only a matching ACK removes an alert.
 */
import t from 'tap'
import { pino } from 'pino'
import { FakeClock } from '../../../devices/time/clock.js'
import { MemoryOutbox } from '../../../gateway/outbox/memory-outbox.js'
import { Dc09Sender } from '../../../gateway/dc09/dc09-sender.js'
import type { Dc09Endpoint, Dc09Transport, Dc09TransportEvents } from '../../../gateway/dc09/dc09-transport.js'
import type { Dc09Config } from '../../../gateway/config/dc09-schema.js'
import { buildFrame, parseFrame, type Dc09Message } from '../../../protocols/dc09/frame.js'

const CFG: Dc09Config = {
  enabled: true, account: '1234', receiver: null, prefix: '0', partition: 1, token: 'SIA-DCS', protocol: 'tcp', tcp_keep_open: false,
  primary: 'p:1', backup: 'b:2', key_ref: null, ack_timeout_ms: 1000, attempts: 2, retry_pause_ms: 5000, revert_s: 60,
  null_poll_s: 10, reporting_class: null, mapping: {},
}

/** Records what is sent; answers only when told to. */
class FakeTransport implements Dc09Transport {
  sent: { to: Dc09Endpoint; msg: Dc09Message }[] = []
  resets = 0
  constructor(readonly ev: Dc09TransportEvents, private readonly key: Buffer | null = null) {}
  send(to: Dc09Endpoint, frame: Buffer): void {
    const p = parseFrame(frame, () => this.key)
    if (!p.ok) throw new Error(p.error)
    this.sent.push({ to, msg: p.value })
  }
  reset(): void { this.resets++ }
  release(): void {}
  async close(): Promise<void> {}
  ack(token = 'ACK', seqDelta = 0): void {
    const last = this.sent[this.sent.length - 1]
    const f = buildFrame({ token, encrypted: false, seq: ((Number(last.msg.seq) + seqDelta - 1) % 9999) + 1, receiver: null, prefix: '0', account: last.msg.account, data: '', time: 0, key: null })
    if (f.ok) this.ev.onFrame(last.to, f.value)
  }
}

function rig(cfg: Partial<Dc09Config> = {}) {
  const clock = new FakeClock()
  const outbox = new MemoryOutbox()
  let tr: FakeTransport | null = null
  const sender = new Dc09Sender({ config: { ...CFG, ...cfg }, key: null, outbox, clock, log: pino({ level: 'silent' }), data: (e) => `#1234|Nri1/PA${e.device}`, transport: (ev) => (tr = new FakeTransport(ev)) })
  sender.start()
  const add = (id: string) => outbox.append({ id, device: '001', topic: 'dc09', payload: Buffer.alloc(0), acceptedAt: clock.now() })
  return { clock, outbox, sender, add, tr: () => tr! }
}

t.test('sequence numbers run 0001-9999 and wrap to 0001; a repeat keeps its number', async (t) => {
  const { sender, add, tr, clock } = rig()
  ;(sender as unknown as { seq: number }).seq = 9998
  for (const id of ['a', 'b', 'c']) add(id)
  await new Promise((r) => setImmediate(r))
  t.equal(tr().sent[0].msg.seq, '9998')
  tr().ack()
  t.equal(tr().sent[1].msg.seq, '9999')
  clock.advance(1000)
  t.equal(tr().sent[2].msg.seq, '9999', 'no answer: same number again')
  t.equal(sender.counters.retries, 1)
  tr().ack()
  t.equal(tr().sent[3].msg.seq, '0001')
})

t.test('only the matching ACK removes an alert; no answer -> repeats -> backup -> pause -> primary again', async (t) => {
  const { sender, add, tr, clock, outbox } = rig()
  add('a')
  await new Promise((r) => setImmediate(r))
  tr().ack('ACK', 1)
  tr().ack('DUH', 1)
  t.equal(sender.counters.mismatched, 2)
  t.equal(outbox.stats().depth, 1)
  clock.advance(1000) // try 2 on the primary
  clock.advance(1000) // primary done -> backup
  t.same(tr().sent.map((s) => s.to.name), ['primary', 'primary', 'backup'])
  t.equal(sender.counters.failovers, 1)
  clock.advance(1000)
  clock.advance(1000) // backup done too: down, pause
  t.equal(sender.state, 'down')
  t.equal(tr().sent.length, 4)
  clock.advance(4999)
  t.equal(tr().sent.length, 4, 'quiet during the pause')
  clock.advance(1)
  t.equal(tr().sent[4].to.name, 'primary')
  t.ok(tr().resets >= 4, 'every silent try drops its connection')
  tr().ack()
  t.equal(outbox.stats().depth, 0)
  t.equal(sender.state, 'up')
})

t.test('after revert_s on the backup the next message tries the primary first', async (t) => {
  const { add, tr, clock } = rig({ null_poll_s: 0 })
  add('a')
  await new Promise((r) => setImmediate(r))
  clock.advance(2000)
  t.equal(tr().sent[2].to.name, 'backup')
  tr().ack()
  add('b')
  await new Promise((r) => setImmediate(r))
  t.equal(tr().sent[3].to.name, 'backup', 'stays on the backup while it works')
  tr().ack()
  clock.advance(60_000)
  add('c')
  await new Promise((r) => setImmediate(r))
  t.equal(tr().sent[4].to.name, 'primary')
})

t.test('supervision bound: polls every null_poll_s of silence; a dead path is declared down within poll + attempts x receivers x ack timeout', async (t) => {
  const { sender, tr, clock } = rig()
  clock.advance(9999)
  t.equal(tr().sent.length, 0)
  clock.advance(1)
  t.equal(tr().sent[0].msg.token, 'NULL')
  tr().ack()
  t.equal(sender.state, 'up')
  // The path dies now: the next poll at +10 s, then 2 tries on each of 2 receivers, 1 s each.
  clock.advance(10_000)
  t.equal(tr().sent.length, 2)
  clock.advance(3999)
  t.equal(sender.state, 'up')
  clock.advance(1)
  t.equal(sender.state, 'down', 'down 14 s after the last good exchange: 10 s + 2 x 2 x 1 s')
  t.equal(sender.counters.polls, 2)
})

t.test('the AES key never reaches the log, whatever the receiver does', async (t) => {
  const key = Buffer.from('8f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex')
  const lines: string[] = []
  const log = pino({ level: 'trace' }, { write: (l: string) => { lines.push(l) } })
  const clock = new FakeClock()
  const outbox = new MemoryOutbox()
  let tr: FakeTransport | null = null
  const sender = new Dc09Sender({ config: CFG, key, outbox, clock, log, data: () => '#1234|Nri1/PA001', transport: (ev) => (tr = new FakeTransport(ev, key)) })
  sender.start()
  outbox.append({ id: 'a', device: '001', topic: 'dc09', payload: Buffer.alloc(0), acceptedAt: clock.now() })
  await new Promise((r) => setImmediate(r))
  t.ok(tr!.sent[0].msg.encrypted, 'sent encrypted')
  // A reply that does not decrypt, a NAK-less silence through both receivers, then polls.
  tr!.ev.onFrame(tr!.sent[0].to, Buffer.from('\nFFFF0010"*ACK"0001L0#1234[00\r'))
  clock.advance(5000)
  clock.advance(5000)
  clock.advance(20_000)
  t.ok(tr!.sent.length >= 4, 'repeated, failed over')
  t.equal(outbox.stats().depth, 1, 'still queued')
  await sender.stop()
  t.ok(lines.length > 3, 'something was logged')
  const all = lines.join('\n').toLowerCase()
  t.notOk(all.includes(key.toString('hex')), 'no key in hex')
  t.notOk(all.includes(key.toString('base64').toLowerCase()), 'no key in base64')
})
