/**
 * Issue 17 §5: the DC-09 path's figures against ioBroker.sia 2.0.4's receiver
 * on loopback (a receiving centre nobody here wrote).
 *
 * 1. Alert -> receiver ACK: one alert at a time raised in the event core,
 *    timed (performance.now) until the sender has processed the receiver's
 *    matching ACK and removed it from the DC-09 queue. Durable queue (file
 *    outbox with fdatasync) as in production.
 * 2. Drain: the receiver is down while 1,000 alerts queue (on disk); then it
 *    comes back on the same port. Timed from the receiver listening again
 *    (the sender is in its retry pause, retry_pause_ms 1000) and from the first
 *    ACK until the queue is empty.
 *
 *   node --import tsx bench/dc09.ts [alerts] [backlog] [drainRuns]   (default 300, 1000, 3)
 *
 * Prints a Markdown section.
 */
import { performance } from 'node:perf_hooks'
import { randomBytes } from 'node:crypto'
import { testGateway, until } from '../test/harness/test-gateway.js'
import { startSiaReceiver, type SiaAccount } from '../test/harness/iobroker-sia.js'
import { Kind } from '../protocols/event-kinds.js'
import { machineLine, median, ms, summarize } from './bench-stats.js'

const ALERTS = Number(process.argv[2] ?? 300)
const BACKLOG = Number(process.argv[3] ?? 1000)
const DRAIN_RUNS = Number(process.argv[4] ?? 3)
const ACCOUNT = '5A01F'
const WARMUP = 20

interface Row { name: string; protocol: 'tcp' | 'udp'; token: 'SIA-DCS' | 'ADM-CID'; keyBytes: number; keepOpen: boolean }
const ROWS: Row[] = [
  { name: 'TCP, SIA-DCS, plain, connection per message', protocol: 'tcp', token: 'SIA-DCS', keyBytes: 0, keepOpen: false },
  { name: 'TCP, ADM-CID, AES-256, connection per message', protocol: 'tcp', token: 'ADM-CID', keyBytes: 32, keepOpen: false },
  { name: 'TCP, ADM-CID, AES-256, connection kept open', protocol: 'tcp', token: 'ADM-CID', keyBytes: 32, keepOpen: true },
  { name: 'UDP, SIA-DCS, AES-128', protocol: 'udp', token: 'SIA-DCS', keyBytes: 16, keepOpen: false },
]

function accountFor(key: Buffer | null): SiaAccount {
  return key ? { accountnumber: ACCOUNT, aes: true, hex: true, password: key.toString('hex') } : { accountnumber: ACCOUNT }
}

async function latency(row: Row): Promise<ReturnType<typeof summarize>> {
  const key = row.keyBytes ? randomBytes(row.keyBytes) : null
  // sockend false: ioBroker.sia's default, the connection stays up until we close it.
  const rx = await startSiaReceiver(row.protocol, [accountFor(key)], { sockend: false })
  let ackedAt = 0
  const { gw, cleanup } = await testGateway({
    outbox: 'file',
    dc09Keys: key ? { arc: key.toString('hex') } : {},
    dc09Deps: { onAcked: () => { ackedAt = performance.now() } },
    extra: { dc09: { enabled: true, account: ACCOUNT, protocol: row.protocol, token: row.token, primary: `127.0.0.1:${rx.port}`, key_ref: key ? 'arc' : null, null_poll_s: 0, tcp_keep_open: row.keepOpen } },
  })
  await gw.start()
  const dc = gw.dc09!
  const samples: number[] = []
  for (let i = 0; i < ALERTS + WARMUP; i++) {
    const before = dc.sender.counters.acked
    const t0 = performance.now()
    gw.core.input(1 + (i % 3), Kind.PANIC, i, Date.now(), Number.NaN, 10_000 + i)
    await until(() => dc.sender.counters.acked > before, `ACK ${i}`, 10_000)
    if (i >= WARMUP) samples.push(ackedAt - t0)
    await new Promise((r) => setTimeout(r, 2))
  }
  if (rx.errors.length) throw new Error(`receiver errors: ${rx.errors.slice(0, 3).join('; ')}`)
  await cleanup()
  await rx.close()
  return summarize(samples)
}

async function drain(): Promise<{ fromUp: number; fromFirst: number; rate: number; sent: number }> {
  const probe = await startSiaReceiver('tcp', [accountFor(null)])
  const port = probe.port
  await probe.close()
  let firstAck = 0
  const { gw, cleanup } = await testGateway({
    outbox: 'file',
    dc09Deps: { onAcked: () => { if (!firstAck) firstAck = performance.now() } },
    extra: { dc09: { enabled: true, account: ACCOUNT, primary: `127.0.0.1:${port}`, null_poll_s: 0, ack_timeout_ms: 1000, attempts: 1, retry_pause_ms: 1000 } },
  })
  await gw.start()
  const dc = gw.dc09!
  for (let i = 0; i < BACKLOG; i++) gw.core.input(1 + (i % 3), Kind.TAMPER, i, Date.now(), Number.NaN, 20_000 + i)
  await until(() => dc.outbox.stats().depth === BACKLOG && dc.sender.state === 'down', 'backlog queued, path down', 30_000)
  const sentBefore = dc.sender.counters.sent
  const rx = await startSiaReceiver('tcp', [accountFor(null)], { port, sockend: false })
  const up = performance.now()
  await until(() => dc.outbox.stats().depth === 0, 'drained', 120_000)
  const end = performance.now()
  if (rx.received.length !== BACKLOG) throw new Error(`receiver got ${rx.received.length} of ${BACKLOG}`)
  const sent = dc.sender.counters.sent - sentBefore
  await cleanup()
  await rx.close()
  return { fromUp: end - up, fromFirst: end - firstAck, rate: BACKLOG / ((end - firstAck) / 1000), sent }
}

const started = new Date()
const lat: [Row, ReturnType<typeof summarize>][] = []
for (const r of ROWS) lat.push([r, await latency(r)])
const drains: Awaited<ReturnType<typeof drain>>[] = []
for (let i = 0; i < DRAIN_RUNS; i++) drains.push(await drain())

const out: string[] = []
out.push('## DC-09 to ioBroker.sia: alert -> receiver ACK, and drain after the receiver comes back (bench/dc09.ts)', '')
out.push(`${machineLine(started)}. Command: \`node --import tsx bench/dc09.ts ${ALERTS} ${BACKLOG} ${DRAIN_RUNS}\`. Receiver: ioBroker.sia 2.0.4's`)
out.push('`sia` class on loopback (its default sockend false). Gateway in process with the durable (file) DC-09 queue; one alert at a time,')
out.push(`${WARMUP} warm-up alerts discarded; timed from the event core's input to the sender having taken the matching ACK and removed the alert.`, '')
out.push('| path | alerts | p50 ms | p99 ms | max ms |', '|---|---:|---:|---:|---:|')
for (const [r, s] of lat) out.push(`| ${r.name} | ${s.n} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} |`)
out.push('', `Drain: ${BACKLOG} alerts queued on disk while the receiver was down (TCP, plain SIA-DCS, stop-and-wait, connection per message); then the receiver listens again on the same port.`, '')
out.push('| run | receiver up -> queue empty ms | first ACK -> queue empty ms | alerts/s | frames sent |', '|---:|---:|---:|---:|---:|')
drains.forEach((d, i) => out.push(`| ${i + 1} | ${d.fromUp.toFixed(0)} | ${d.fromFirst.toFixed(0)} | ${d.rate.toFixed(0)} | ${d.sent} |`))
out.push('', `Median: ${median(drains.map((d) => d.fromUp)).toFixed(0)} ms from the receiver coming back (includes up to the 1 s retry pause), ${median(drains.map((d) => d.fromFirst)).toFixed(0)} ms from the first ACK. Every alert delivered once: yes (receiver count = backlog).`)
console.log(out.join('\n'))
// ioBroker.sia arms a 30 s timer per message on kept-open connections that nothing cancels.
process.exit(0)
