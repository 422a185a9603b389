/**
 * PathLink's failover order and pacing (issue 16 §1), socket-free: injected
 * mqtt clients and a fake clock. Endpoints are tried in order, wrapping; the
 * backoff grows per round of the list (mid-round the next node is tried after
 * the first delay); a connected node is kept; a lost one moves to the next.
 */
import t from 'tap'
import { FakeClock } from '../../../devices/time/clock.js'
import { parseConfig } from '../../../gateway/config/load-config.js'
import { fakePathLink } from '../../harness/fake-path-link.js'

function rig(endpoints: string[]) {
  const clock = new FakeClock()
  const station = parseConfig(`site: s\npost: p\nstation:\n  backoff_initial_ms: 100\n  backoff_max_ms: 10000\n  endpoints: [${endpoints.join(', ')}]\n`).station
  const { link, attempts } = fakePathLink({ endpoints, station, clock, clientId: 'c' })
  return { clock, link, attempts }
}

const A = 'mqtt://127.0.0.1:1001'
const B = 'mqtt://127.0.0.1:1002'
const C = 'mqtt://127.0.0.1:1003'

t.test('refused everywhere: in order, wrapping, backoff per round', async (t) => {
  const { clock, link, attempts } = rig([A, B, C])
  link.start()
  const closedAt: number[] = []
  for (let i = 0; i < 9; i++) {
    closedAt.push(clock.monotonic())
    attempts[i].client.emit('close') // refused
    clock.advance(20_000)
    t.equal(attempts.length, i + 2, `attempt ${i + 2} made`)
  }
  t.same(attempts.map((a) => a.url), [A, B, C, A, B, C, A, B, C, A], 'endpoints in list order, wrapping')
  const gaps = attempts.slice(1).map((a, i) => a.at - closedAt[i])
  // Mid-round: the first delay (jittered 50-100 ms). End of round k: the backoff's k-th delay.
  for (const i of [0, 1, 3, 4, 6, 7]) t.ok(gaps[i] >= 50 && gaps[i] <= 100, `mid-round gap ${i}: ${gaps[i]} ms`)
  t.ok(gaps[2] >= 50 && gaps[2] <= 100, `after round 1: ${gaps[2]} ms`)
  t.ok(gaps[5] >= 100 && gaps[5] <= 200, `after round 2: ${gaps[5]} ms`)
  t.ok(gaps[8] >= 200 && gaps[8] <= 400, `after round 3: ${gaps[8]} ms`)
  t.equal(link.counters.connectFailures, 9)
  t.equal(link.counters.failovers, 9)
  await link.stop([])
})

t.test('a connected node is kept; a lost one moves on to the next', async (t) => {
  const { clock, link, attempts } = rig([A, B, C])
  link.start()
  attempts[0].client.emit('close')
  clock.advance(1000)
  attempts[1].client.emit('connect')
  t.equal(link.state, 'connected')
  t.equal(link.url, B)
  clock.advance(600_000)
  t.equal(attempts.length, 2, 'no attempt while B works (no return to the first endpoint)')
  const lostAt = clock.monotonic()
  attempts[1].client.emit('close') // B lost
  t.equal(link.state, 'disconnected')
  clock.advance(1000)
  t.equal(attempts[2].url, C, 'the next endpoint after the lost one')
  t.ok(attempts[2].at - lostAt <= 100, `after the first delay (backoff reset by the connect): ${attempts[2].at - lostAt} ms`)
  await link.stop([])
})
