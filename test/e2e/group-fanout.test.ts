/**
 * Issue 6 §5-6, group fan-out on real brokers: three posts of a group, each
 * with its own embedded broker (aedes) on loopback, linked directly, and a
 * REAL mosquitto as the station. A press at one post reaches the other two
 * within a second, once each, marked as a neighbour's, on their local screens
 * and their lamp boxes — with the station up (both paths, one copy kept) and
 * with the station down (the direct path alone).
 */
import t, { type Test } from 'tap'
import { Mosquitto } from '../harness/mosquitto.js'
import { until } from '../harness/test-gateway.js'
import { startGroup, type GroupPost } from '../harness/group-posts.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'
import mqtt from 'mqtt'
import { Kind } from '../../protocols/event-kinds.js'

t.setTimeout(90_000)

type Post = GroupPost

async function pressAndExpect(t: Test, from: Post, others: Post[]): Promise<void> {
  const before = others.map((o) => o.seen.length)
  const pressed = process.hrtime.bigint()
  t.equal(from.gw.twins.get('counter-button')?.act('press'), null, `press at ${from.post}`)
  for (const [k, o] of others.entries()) await until(() => o.seen.length > before[k], `${o.post} to see ${from.post}'s alert`, 5000)
  await new Promise((r) => setTimeout(r, 700)) // the second path's copy arrives, and must be dropped
  for (const [k, o] of others.entries()) {
    const got = o.seen.slice(before[k])
    t.equal(got.length, 1, `${o.post}: exactly one copy`)
    t.equal(got[0].origin, from.post, `${o.post}: marked as ${from.post}'s (origin_post)`)
    const ms = Number(got[0].at - pressed) / 1e6
    t.ok(ms < 1000, `${o.post}: within a second (${ms.toFixed(1)} ms)`)
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
  const posts = await startGroup(t, mosq.url)

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
  const posts = await startGroup(t, mosq.url, { linked: false })
  await pressAndExpect(t, posts[1], [posts[0], posts[2]])
  // MQTT 5 No Local (issue 13 §1): the station does not send a post its own group alert back.
  t.same(posts.map((p) => p.gw.group!.fanout.counters.echoes), [0, 0, 0], 'no post heard its own alert back')
  t.same(posts.map((p) => p.gw.uplink.protocolVersion), [5, 5, 5])
})

t.test('MQTT 3.1.1 (no No Local): the sender hears its own alert back and ignores it', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const posts = await startGroup(t, mosq.url, { linked: false, station: { protocol: '3.1.1' } })
  t.same(posts.map((p) => p.gw.uplink.protocolVersion), [4, 4, 4])
  await pressAndExpect(t, posts[1], [posts[0], posts[2]])
  t.equal(posts[0].gw.group!.fanout.counters.echoes, 0)
  await until(() => posts[1].gw.group!.fanout.counters.echoes === 1, 'the sender to hear its own alert back from the station')
  t.equal(posts[1].gw.group!.fanout.counters.relayed, 0, 'and not relay it')
})

t.test('the station gets each alert before its group copy (issue 13 §1)', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const posts = await startGroup(t, mosq.url, { linked: false })
  // A console at the station: one subscription for everything, so mosquitto delivers in the order it received.
  const consoleClient = await mqtt.connectAsync(mosq.url, { clientId: 'group-order-console', protocolVersion: 5 })
  t.teardown(() => consoleClient.endAsync())
  const heard: { topic: string; id: string }[] = []
  consoleClient.on('message', (topic, payload) => {
    const r = checkPayload<{ id: string }>('alert', payload)
    if (r.ok) heard.push({ topic, id: r.value.id })
  })
  await consoleClient.subscribeAsync('safehouse/v1/+/+/alert/#', { qos: 1 })
  await consoleClient.subscribeAsync('safehouse/v1/+/group/+/alert', { qos: 1 })
  const from = posts[0]
  const alertTopic = from.gw.topics.alert('counter-button')
  const device = from.gw.devices.indexOf('counter-button')
  for (let i = 0; i < 3; i++) {
    // As a driver hands an alarm to the core (a fresh packet key each time: never a duplicate).
    from.gw.core.input(device, Kind.PANIC, 1, Date.now(), NaN, 1000 + i)
    await until(() => heard.filter((h) => h.topic !== alertTopic).length === i + 1 && heard.filter((h) => h.topic === alertTopic).length === i + 1, `alert ${i + 1} and its group copy at the station`, 5000)
  }
  const order = heard.map((h) => `${h.topic === alertTopic ? 'alert' : 'group'} ${h.id}`)
  const ids = [...new Set(heard.map((h) => h.id))]
  t.equal(ids.length, 3)
  t.same(order, ids.flatMap((id) => [`alert ${id}`, `group ${id}`]), 'each alert first, then its copy')
})
