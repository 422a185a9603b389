/**
 * Dual-path posts at the station (issue 16 §1): `…/status` has no Last Will,
 * each path's connection has its own on `…/path/<path>/status`. The station
 * marks the post offline when every path it has heard of is offline (a hung
 * gateway, or both paths lost), never while one path is still up. Posts are
 * MQTT clients speaking the contract to a real mosquitto; the wills are real
 * (the connections are destroyed without DISCONNECT).
 */
import t from 'tap'
import mqtt, { type MqttClient } from 'mqtt'
import { testStation } from '../harness/station-service.js'
import { until } from '../harness/test-gateway.js'
import { parseStationTopic } from '../../station/ingest/topic-parse.js'
import { checkMessage } from '../../station/ingest/message-check.js'

t.setTimeout(60_000)
const ROOT = 'safehouse/v1/s1/p1'

t.test('a path status names its path; a payload naming another path is refused', async (t) => {
  const topic = parseStationTopic(`${ROOT}/path/wired/status`)
  t.match(topic, { site: 's1', post: 'p1', what: 'path-status', device: 'wired' })
  t.match(checkMessage(topic!, Buffer.from('{"v":1,"state":"offline","path":"wired"}'), 0), { ok: true, op: { op: 'path-status', path: 'wired', online: false } })
  t.match(checkMessage(topic!, Buffer.from('{"v":1,"state":"offline","path":"cellular"}'), 0), { ok: false, counter: 'rejected_topic_mismatch' })
  t.equal(parseStationTopic(`${ROOT}/path/Bad Path/status`), null, 'not a topic level')
})

t.test('offline when both paths\' wills fire, not when one does', async (t) => {
  const st = await testStation({ web: false })
  t.teardown(st.cleanup)
  const path = (name: string) => mqtt.connectAsync(st.mosq.url, {
    clientId: `p1-${name}`, reconnectPeriod: 0,
    will: { topic: `${ROOT}/path/${name}/status`, payload: Buffer.from(JSON.stringify({ v: 1, state: 'offline', path: name })), qos: 1, retain: true },
  })
  const wired = await path('wired')
  const cellular = await path('cellular')
  t.teardown(async () => { for (const c of [wired, cellular]) await c.endAsync(true).catch(() => {}) })
  for (const [c, name] of [[wired, 'wired'], [cellular, 'cellular']] as [MqttClient, string][]) {
    await c.publishAsync(`${ROOT}/path/${name}/status`, JSON.stringify({ v: 1, state: 'online', since: Date.now(), path: name }), { qos: 1, retain: true })
  }
  await wired.publishAsync(`${ROOT}/status`, JSON.stringify({ v: 1, state: 'online', since: Date.now() }), { qos: 1, retain: true })
  const online = async () => (await st.service.store.post('s1', 'p1'))?.online
  await until(() => st.service.ingest.isKnown('s1', 'p1'), 'the post known')
  await st.service.ingest.writer.flush()
  t.equal(await online(), true, 'online')

  wired.stream.destroy() // the wired path dies: its will fires, cellular carries on
  await new Promise((r) => setTimeout(r, 1500))
  await st.service.ingest.writer.flush()
  t.equal(await online(), true, 'one path down: the post is still online')

  cellular.stream.destroy() // now both
  let state = await online()
  for (let i = 0; i < 100 && state !== false; i++) {
    await new Promise((r) => setTimeout(r, 50))
    state = await online()
  }
  t.equal(state, false, 'every path offline: the post is offline')
})
