/**
 * Issue 16 §1: a city's posts fail over with JITTERED backoff, so the loss of
 * a node does not bring its posts back onto the next node in lockstep (2,100
 * posts, a third of them on the killed node). Socket-free: many PathLinks with
 * injected mqtt clients, one fake clock and a seeded jitter source (each post
 * its own, as each gateway process has its own Math.random), so the figures
 * are deterministic. Asserts the spread and the bounds docs/operations.md
 * ("A station node fails") and docs/city.md state for the default
 * `backoff_initial_ms` 500 and `backoff_max_ms` 30000.
 */
import t, { type Test } from 'tap'
import { FakeClock } from '../../../devices/time/clock.js'
import { parseConfig } from '../../../gateway/config/load-config.js'
import { seededRandom } from '../../harness/seeded-random.js'
import { fakePathLink, type Attempt } from '../../harness/fake-path-link.js'
import type { PathLink } from '../../../gateway/uplink/path-link.js'

const A = 'mqtt://127.0.0.1:1001'
const B = 'mqtt://127.0.0.1:1002'
const C = 'mqtt://127.0.0.1:1003'
const POSTS = 300

interface Post { link: PathLink; attempts: Attempt[] }

/** POSTS links on one clock with the default backoff (500 ms first, 30 s max). */
function city(t: Test, clock: FakeClock): Post[] {
  const station = parseConfig(`site: s\npost: p\nstation:\n  endpoints: [${A}, ${B}, ${C}]\n`).station
  t.equal(station.backoff_initial_ms, 500, 'the documented default first delay')
  t.equal(station.backoff_max_ms, 30_000, 'the documented default longest delay')
  return Array.from({ length: POSTS }, (_, i) =>
    fakePathLink({ endpoints: [A, B, C], station, clock, clientId: `post-${i}`, random: seededRandom(1000 + i) }))
}

const last = (p: Post) => p.attempts[p.attempts.length - 1]

/** Largest number of values falling into one `widthMs` bucket. */
function crowd(values: number[], widthMs: number): number {
  const buckets = new Map<number, number>()
  for (const v of values) buckets.set(Math.floor(v / widthMs), (buckets.get(Math.floor(v / widthMs)) ?? 0) + 1)
  return Math.max(...buckets.values())
}

t.test('a node killed under every post: the reconnects to the next node spread over 250-500 ms', async (t) => {
  const clock = new FakeClock()
  const posts = city(t, clock)
  for (const p of posts) { p.link.start(); last(p).client.emit('connect') }
  t.ok(posts.every((p) => p.link.connected && p.link.url === A), 'all on node A')
  const killedAt = clock.monotonic()
  for (const p of posts) last(p).client.emit('close') // node A killed -9: every connection drops at once
  clock.advance(1000)
  const delays = posts.map((p) => last(p).at - killedAt)
  t.ok(posts.every((p) => p.attempts.length === 2 && last(p).url === B), 'each post tried the next node (B) once')
  t.ok(delays.every((d) => d >= 250 && d <= 500), `each within the documented 250-500 ms (min ${Math.min(...delays)}, max ${Math.max(...delays)})`)
  t.ok(new Set(delays).size >= POSTS / 2, `spread, not lockstep: ${new Set(delays).size} distinct instants for ${POSTS} posts`)
  t.ok(Math.max(...delays) - Math.min(...delays) >= 200, 'over most of the jitter window')
  // Lockstep would put all 300 into one 10 ms slot; uniform jitter puts ~12 there.
  t.ok(crowd(delays, 10) <= POSTS * 0.1, `at most 10% of the posts in any 10 ms (${crowd(delays, 10)})`)
  for (const p of posts) last(p).client.emit('connect')
  t.ok(posts.every((p) => p.link.connected && p.link.url === B), 'all on B')
  await Promise.all(posts.map((p) => p.link.stop([])))
})

t.test('the whole cluster down for 5 minutes: the posts come back within one round, spread', async (t) => {
  const clock = new FakeClock()
  const posts = city(t, clock)
  for (const p of posts) { p.link.start(); last(p).client.emit('connect') }
  for (const p of posts) last(p).client.emit('close') // every node gone
  // Every attempt is refused while the cluster is down.
  const refuseUntil = clock.monotonic() + 300_000
  while (clock.monotonic() < refuseUntil) {
    clock.advance(50)
    for (const p of posts) {
      const a = last(p)
      if (a.client.listenerCount('close')) a.client.emit('close') // not yet refused
    }
  }
  // Pacing while down: rounds back off up to 30 s; no post tries more than ~one round per 15 s at the end.
  const lateAttempts = posts.map((p) => p.attempts.filter((a) => a.at >= refuseUntil - 60_000).length)
  t.ok(lateAttempts.every((n) => n <= 3 * 4 + 3), `in the last minute at most 4 rounds of 3 nodes per post (max ${Math.max(...lateAttempts)})`)
  // The nodes accept again: the next attempt of each post connects.
  const backAt = clock.monotonic()
  const connectedAt = new Map<Post, number>()
  for (let ms = 0; ms < 40_000 && connectedAt.size < POSTS; ms += 10) {
    clock.advance(10)
    for (const p of posts) {
      if (connectedAt.has(p)) continue
      const a = last(p)
      if (a.at >= backAt && !p.link.connected) { a.client.emit('connect'); connectedAt.set(p, a.at - backAt) }
    }
  }
  const back = [...connectedAt.values()].sort((x, y) => x - y)
  t.equal(back.length, POSTS, 'every post reconnected')
  t.ok(back[back.length - 1] <= 30_000 + 2 * 500, `every post within one round: <= backoff_max + 2 x initial (31 s; max ${back[back.length - 1]} ms)`)
  t.ok(back[Math.floor(POSTS * 0.9)] - back[Math.floor(POSTS * 0.1)] >= 5_000, `spread over the round (p10 ${back[Math.floor(POSTS * 0.1)]} ms, p90 ${back[Math.floor(POSTS * 0.9)]} ms)`)
  t.ok(crowd(back, 100) <= POSTS * 0.05, `at most 5% of the posts in any 100 ms (${crowd(back, 100)})`)
  await Promise.all(posts.map((p) => p.link.stop([])))
})
