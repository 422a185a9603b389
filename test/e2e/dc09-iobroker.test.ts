/**
 * Issue 17 §4: the DC-09 path against a receiving centre nobody here wrote,
 * ioBroker.sia 2.0.4's receiver class on real sockets. Every alert kind (and
 * the restores) goes out plain and encrypted, over TCP and UDP, with Contact
 * ID and SIA-DCS; the event codes are read from what the receiver parsed.
 */
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkPayload } from '../../protocols/mqtt/schemas.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { startSiaReceiver, type SiaAccount } from '../harness/iobroker-sia.js'
import { Kind } from '../../protocols/event-kinds.js'

/** The mapping table of docs/dc09.md, written out independently of the code. */
const EXPECTED: [kind: string, cid: string, sia: string][] = [
  ['panic', '120', 'PA'], ['silent_holdup', '122', 'HA'], ['duress', '121', 'HA'], ['whistle', '123', 'PA'], ['sos', '101', 'QA'],
  ['tamper', '137', 'TA'], ['wire_cut', '371', 'UT'], ['wire_short', '372', 'UT'], ['stuck', '380', 'UT'], ['missing', '381', 'UY'],
  ['low_battery', '384', 'XT'], ['mains_lost', '301', 'AT'], ['lamp_fault', '330', 'ET'], ['device_fault', '333', 'ET'],
  ['test', '601', 'RX'], ['cancel', '406', 'OC'], ['escalation', '354', 'YC'], ['gateway_trouble', '300', 'IA'],
  ['lamp_dark', '330', 'ET'], ['door_open', '145', 'TA'], ['channel_fault', '330', 'ET'], ['test_report', '602', 'RP'],
]
/** Restores: [kind cleared, SIA restore code]; Contact ID uses qualifier 3 with the kind's code. */
const RESTORES: [kind: string, sia: string][] = [['missing', 'UJ'], ['mains_lost', 'AR'], ['wire_cut', 'UJ'], ['low_battery', 'XR'], ['tamper', 'TR']]

const KIND = (name: string): number => (Kind as Record<string, number>)[name.toUpperCase()]
const ACCOUNT = '5A01F'
const cases = [
  { protocol: 'tcp', token: 'SIA-DCS', keyBytes: 0 },
  { protocol: 'tcp', token: 'ADM-CID', keyBytes: 32 },
  { protocol: 'udp', token: 'SIA-DCS', keyBytes: 16 },
  { protocol: 'udp', token: 'ADM-CID', keyBytes: 24 },
] as const

for (const c of cases) {
  t.test(`${c.protocol} ${c.token} ${c.keyBytes ? `AES-${c.keyBytes * 8}` : 'plain'}: every alert kind and restore reaches ioBroker.sia with its codes, each ACKed once`, async (t) => {
    const key = c.keyBytes ? randomBytes(c.keyBytes) : null
    const account: SiaAccount = key ? { accountnumber: ACCOUNT, aes: true, hex: true, password: key.toString('hex') } : { accountnumber: ACCOUNT }
    const rx = await startSiaReceiver(c.protocol, [account])
    const { gw, cleanup } = await testGateway({
      outbox: c.protocol === 'tcp' ? 'file' : 'memory',
      dc09Keys: key ? { arc: key.toString('hex') } : {},
      extra: { dc09: { enabled: true, account: ACCOUNT, receiver: '12', prefix: '3', protocol: c.protocol, token: c.token, primary: `127.0.0.1:${rx.port}`, key_ref: key ? 'arc' : null, ack_timeout_ms: 2000, null_poll_s: 0 } },
    })
    t.teardown(async () => { await cleanup(); await rx.close() })
    await gw.start()
    const dc = gw.dc09!
    const zone = gw.devices.indexOf('whistle-07')
    const now = Date.now()
    // One real press through the button's twin (zone = its device index) ...
    t.equal(gw.twins.get('counter-button')?.act('press'), null)
    // ... and every other alert kind and restore straight into the event core, as a driver would.
    for (const [kind] of EXPECTED) if (kind !== 'panic') gw.core.input(zone, KIND(kind), 1, now, Number.NaN, -1)
    // Distinct dedupe keys: five restores from one device in one instant are five events.
    RESTORES.forEach(([kind], i) => gw.core.input(zone, Kind.RESTORED, KIND(kind), now, Number.NaN, 1000 + i))
    const total = EXPECTED.length + RESTORES.length
    await until(() => dc.sender.counters.acked === total, `${total} ACKs (counters ${JSON.stringify(dc.sender.counters)} ${JSON.stringify(dc.outbox.stats())} ${JSON.stringify(gw.core.counters)}, receiver errors: ${rx.errors.join('; ')})`, 20_000)
    t.equal(dc.outbox.stats().depth, 0, 'the DC-09 queue is empty once everything is ACKed')
    t.equal(rx.received.length, total, 'the receiver parsed each message exactly once')
    t.same(rx.errors, [], 'the receiver rejected nothing')
    const seqs = rx.received.map((r) => Number(r.seq))
    t.equal(new Set(seqs).size, total, 'a new sequence number per message')
    for (let i = 1; i < seqs.length; i++) if (seqs[i] !== (seqs[i - 1] % 9999) + 1) t.fail(`sequence ${seqs[i - 1]} -> ${seqs[i]}`)
    for (const r of rx.received) {
      t.equal(r.id, `${key ? '*' : ''}${c.token}`)
      t.equal(r.act, ACCOUNT)
      t.equal(r.rpref, '12')
      t.equal(r.lpref, '3')
      t.match(r.ts, /^\d\d:\d\d:\d\d,\d\d-\d\d-\d{4}$/)
    }
    const pressZone = String(gw.devices.indexOf('counter-button')).padStart(3, '0')
    const z = String(zone).padStart(3, '0')
    const got = new Set(rx.received.map((r) => r.data_message))
    for (const [kind, cid, sia] of EXPECTED) {
      const zz = kind === 'panic' ? pressZone : z
      const want = c.token === 'ADM-CID' ? `#${ACCOUNT}|1${cid} 01 ${zz}` : `#${ACCOUNT}|Nri1/${sia}${zz}`
      t.ok(got.has(want), `${kind} -> ${want}`)
    }
    for (const [kind, sia] of RESTORES) {
      const cid = EXPECTED.find(([k]) => k === kind)![1]
      const want = c.token === 'ADM-CID' ? `#${ACCOUNT}|3${cid} 01 ${z}` : `#${ACCOUNT}|Nri1/${sia}${z}`
      t.ok(got.has(want), `${kind} restored -> ${want}`)
    }
    const state = gw.gatewayState() as { dc09: { state: string; depth: number }; counters: Record<string, number> }
    t.equal(state.dc09.state, 'up')
    t.match(checkPayload('gatewayState', JSON.stringify(state)), { ok: true }, 'the retained state with dc09 fits its schema')
    t.equal(state.counters.dc09_acked, total)
    t.equal(state.counters.dc09_garbage, 0)
  })
}

t.test('the receiving centre is away: alerts wait on disk, survive a gateway restart, and drain when it comes back, each ACKed once', async (t) => {
  // Reserve a port, then close it so the receiver refuses connections.
  const probe = await startSiaReceiver('tcp', [{ accountnumber: ACCOUNT }])
  const deadPort = probe.port
  await probe.close()
  const dataDir = mkdtempSync(join(tmpdir(), 'safehouse-dc09-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const dc09 = { enabled: true, account: ACCOUNT, primary: `127.0.0.1:${deadPort}`, backup: null, ack_timeout_ms: 300, attempts: 2, retry_pause_ms: 200, null_poll_s: 0 }
  const first = await testGateway({ outbox: 'file', extra: { data_dir: dataDir, dc09 } })
  await first.gw.start()
  const dc1 = first.gw.dc09!
  for (let i = 0; i < 5; i++) first.gw.core.input(1 + (i % 3), Kind.TAMPER, i, Date.now(), Number.NaN, 2000 + i)
  await until(() => dc1.sender.state === 'down' && dc1.sender.counters.retries >= 2, 'path down after retries')
  t.equal(dc1.outbox.stats().depth, 5, 'nothing left the queue without an ACK')
  await first.cleanup()
  const rx = await startSiaReceiver('tcp', [{ accountnumber: ACCOUNT }], { port: deadPort })
  t.teardown(() => rx.close())
  const second = await testGateway({ outbox: 'file', extra: { data_dir: dataDir, dc09 } })
  t.teardown(second.cleanup)
  await second.gw.start()
  const dc = second.gw.dc09!
  await until(() => dc.sender.counters.acked === 5, 'drained by the restarted gateway', 15_000)
  t.equal(dc.outbox.stats().depth, 0)
  t.equal(rx.received.length, 5)
  t.equal(new Set(rx.received.map((r) => r.data_message + r.seq)).size, 5, 'five distinct messages')
  t.same(rx.received.map((r) => r.data_message.slice(-3)).sort(), ['001', '001', '002', '002', '003'], 'the five tampers, zones as raised')
})

t.test('failover: no answer from the primary -> the backup gets the alert; polls keep the path supervised', async (t) => {
  const probe = await startSiaReceiver('tcp', [{ accountnumber: ACCOUNT }])
  const deadPort = probe.port
  await probe.close()
  const rx = await startSiaReceiver('tcp', [{ accountnumber: ACCOUNT }])
  const { gw, cleanup } = await testGateway({
    extra: { dc09: { enabled: true, account: ACCOUNT, primary: `127.0.0.1:${deadPort}`, backup: `127.0.0.1:${rx.port}`, ack_timeout_ms: 300, attempts: 2, retry_pause_ms: 200, null_poll_s: 1 } },
  })
  t.teardown(async () => { await cleanup(); await rx.close() })
  await gw.start()
  const dc = gw.dc09!
  gw.core.input(1, Kind.PANIC, 1, Date.now(), Number.NaN, -1)
  await until(() => dc.sender.counters.acked === 1, 'ACK from the backup')
  t.equal(dc.sender.counters.failovers, 1)
  t.equal(dc.sender.endpoint, 'backup')
  t.equal(rx.received.length, 1)
  // Supervision polls go on while idle; ioBroker.sia answers a NULL with NAK (docs/dc09.md), which still proves the path.
  const polls = dc.sender.counters.polls
  await until(() => dc.sender.counters.polls >= polls + 2, 'two NULL polls', 5000)
  t.ok(dc.sender.counters.nak >= 1, 'ioBroker.sia NAKs the NULL poll')
  t.equal(dc.sender.state, 'up')
  t.equal(dc.outbox.stats().depth, 0)
})
