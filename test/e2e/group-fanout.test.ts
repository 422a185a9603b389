/**
 * Issue 6 §5-6, group fan-out on real brokers: three posts of a group, each
 * with its own embedded broker (aedes) on loopback, linked directly, and a
 * REAL mosquitto as the station. A press at one post reaches the other two
 * within a second, once each, marked as a neighbour's, on their local screens
 * and their lamp boxes — with the station up (both paths, one copy kept) and
 * with the station down (the direct path alone).
 */
import t, { type Test } from 'tap'
import mqtt, { type MqttClient } from 'mqtt'
import { Mosquitto, freePort } from '../harness/mosquitto.js'
import { testGateway, until, USERS } from '../harness/test-gateway.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'
import type { Gateway } from '../../gateway/gateway.js'

t.setTimeout(90_000)

const POSTS = ['kiosk-001', 'kiosk-003', 'kiosk-004']

interface Post { post: string; gw: Gateway; seen: { origin: string; id: string; at: number }[]; screen: MqttClient }

async function groupOfThree(t: Test, stationUrl: string, linked = true): Promise<Post[]> {
  const ports = await Promise.all(POSTS.map(() => freePort()))
  const users = Object.values(USERS).map(({ username, role }) => ({ username, role }))
  const out: Post[] = []
  for (const [i, post] of POSTS.entries()) {
    const peers = linked ? POSTS.flatMap((p, j) => (j === i ? [] : [{ post: p, url: `mqtt://127.0.0.1:${ports[j]}` }])) : []
    const { gw, cleanup } = await testGateway({
      post,
      stationUrl,
      // Every post has the neighbour account USERS.neighbour; each logs in to the others with it.
      groupPassword: USERS.neighbour.password,
      extra: { broker: { port: ports[i], users }, group_fanout: { peers, username: linked ? USERS.neighbour.username : null } },
    })
    t.teardown(cleanup)
    out.push({ post, gw, seen: [], screen: null as unknown as MqttClient })
  }
  for (const p of out) await p.gw.start()
  for (const [i, p] of out.entries()) {
    // A local screen at each post: the panel role may read neighbour alerts.
    p.screen = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports[i]}`, { username: USERS.panel.username, password: USERS.panel.password })
    t.teardown(() => p.screen.endAsync())
    p.screen.on('message', (_topic, payload) => {
      const r = checkPayload<{ id: string; origin_post: string }>('alert', payload)
      if (r.ok) p.seen.push({ origin: r.value.origin_post, id: r.value.id, at: Date.now() })
    })
    await p.screen.subscribeAsync(`safehouse/v1/test-city/${p.post}/neighbour-alert/+`, { qos: 1 })
  }
  for (const p of out) {
    await until(() => p.gw.uplink.connected, `${p.post} connected to the station`)
    if (linked) await until(() => (p.gw.group?.peers ?? []).every((l) => l.connected), `${p.post} linked to its peers`)
  }
  return out
}

async function pressAndExpect(t: Test, from: Post, others: Post[]): Promise<void> {
  const before = others.map((o) => o.seen.length)
  const pressed = Date.now()
  t.equal(from.gw.twins.get('counter-button')?.act('press'), null, `press at ${from.post}`)
  for (const [k, o] of others.entries()) await until(() => o.seen.length > before[k], `${o.post} to see ${from.post}'s alert`, 5000)
  await new Promise((r) => setTimeout(r, 700)) // the second path's copy arrives, and must be dropped
  for (const [k, o] of others.entries()) {
    const got = o.seen.slice(before[k])
    t.equal(got.length, 1, `${o.post}: exactly one copy`)
    t.equal(got[0].origin, from.post, `${o.post}: marked as ${from.post}'s (origin_post)`)
    t.ok(got[0].at - pressed < 1000, `${o.post}: within a second (${got[0].at - pressed} ms)`)
    // A post with its own alarm still open keeps showing it: a neighbour's never covers it.
    if (o.gw.state.open.size) t.equal(o.gw.state.lampPattern, 'alarm', `${o.post}: its own open alarm stays on the lamp`)
    else t.equal(o.gw.state.lampPattern, 'neighbour-alarm', `${o.post}: the lamp shows the neighbour's alarm`)
  }
  t.notOk(from.seen.some((s) => s.origin === from.post), `${from.post} does not get its own alert back as a neighbour's`)
  t.equal(from.gw.state.lampPattern, 'alarm', `${from.post}: its own lamp shows the alarm`)
}

t.test('three posts: a press reaches the other two with the station up, and with it down', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const posts = await groupOfThree(t, mosq.url)

  await pressAndExpect(t, posts[0], [posts[1], posts[2]])
  const c1 = posts[1].gw.group!.fanout.counters
  t.equal(c1.relayed, 1)
  t.equal(c1.repeats, 1, 'the copy from the other path was recognised by id and dropped')

  await mosq.stop()
  for (const p of posts) await until(() => !p.gw.uplink.connected, `${p.post} to notice the station is gone`)
  await pressAndExpect(t, posts[2], [posts[0], posts[1]])

  // No loops: each post sent only its own alarms, and relayed each neighbour alarm once.
  t.same(posts.map((p) => p.gw.group!.fanout.counters.sent), [1, 0, 1])
  t.same(posts.map((p) => p.gw.group!.fanout.counters.relayed), [1, 2, 1])
  const state = posts[0].gw.gatewayState() as { group_peers: { post: string; state: string }[]; counters: Record<string, number> }
  t.ok(checkPayload('gatewayState', Buffer.from(JSON.stringify(state))).ok, 'gateway state with group_peers validates')
  t.same(state.group_peers.map((p) => p.state), ['connected', 'connected'])
  t.equal(state.counters.group_relayed, 1)
})

t.test('without direct links the station broker alone carries the group', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const posts = await groupOfThree(t, mosq.url, false)
  await pressAndExpect(t, posts[1], [posts[0], posts[2]])
  t.equal(posts[0].gw.group!.fanout.counters.echoes, 0)
  t.equal(posts[1].gw.group!.fanout.counters.echoes, 1, 'the sender heard its own alert back from the station and ignored it')
})
