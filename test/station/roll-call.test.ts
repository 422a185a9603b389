/**
 * Roll call through the contract (issue 15): the station sends `roll-call`
 * (MQTT 5 request/response) to every online post of a group; one post
 * answers with a check_in alert, one stays silent, one is offline. Posts are
 * MQTT clients speaking the contract to a real mosquitto (the gateway's
 * check-in device is not built yet: see docs/protocol.md §Roll call).
 */
import t from 'tap'
import mqtt, { type MqttClient } from 'mqtt'
import { testStation } from '../harness/station-service.js'
import { until } from '../harness/test-gateway.js'
import { rollCallCsv } from '../../station/rollcall/roll-call-csv.js'

t.setTimeout(60_000)

const acks: { post: string; ack: { id: string; by: string } }[] = []

async function post(url: string, name: string, online: boolean, onRollCall: (c: MqttClient, args: { id: string; deadline_s: number }) => void): Promise<MqttClient> {
  const root = `safehouse/v1/s1/${name}`
  const c = await mqtt.connectAsync(url, { clientId: `post-${name}`, protocolVersion: 5 })
  await c.publishAsync(`${root}/status`, JSON.stringify(online ? { v: 1, state: 'online', since: Date.now() } : { v: 1, state: 'offline' }), { qos: 1, retain: true })
  await c.publishAsync(`${root}/state`, JSON.stringify({ v: 1, site: 's1', post: name, version: '1', time: Date.now(), uptime_s: 1, station: 'connected', outbox: { depth: 0 }, counters: {}, last_ack: null, open_alerts: [], group: 'unit-1' }), { qos: 1, retain: true })
  c.on('message', (topic, payload, packet) => {
    if (topic === `${root}/ack`) acks.push({ post: name, ack: JSON.parse(payload.toString()) as { id: string; by: string } })
    if (!topic.endsWith('/cmd/roll-call')) return
    const req = JSON.parse(payload.toString()) as { args: { id: string; deadline_s: number } }
    const rt = packet.properties?.responseTopic
    if (rt) void c.publishAsync(rt, JSON.stringify({ v: 1, command: 'roll-call', ok: true, result: { roll_call: req.args.id } }), { qos: 1, properties: { correlationData: packet.properties?.correlationData } })
    onRollCall(c, req.args)
  })
  await c.subscribeAsync([`${root}/cmd/+`, `${root}/ack`], { qos: 1 })
  return c
}

t.test('one answers, one is silent, one is offline', async (t) => {
  const st = await testStation({ web: false })
  t.teardown(st.cleanup)
  const clients: MqttClient[] = []
  t.teardown(async () => { for (const c of clients) await c.endAsync() })
  const commands: string[] = []
  clients.push(await post(st.mosq.url, 'p1', true, (c, a) => {
    commands.push('p1')
    setTimeout(() => void c.publishAsync('safehouse/v1/s1/p1/alert/check-in', JSON.stringify({
      v: 1, id: 's1:p1:7', site: 's1', post: 'p1', device: 'check-in', device_kind: 'panic-button', label: 'Check-in button', kind: 'check_in',
      seq: 7, value: 1, hw_time: Date.now(), sent_time: Date.now(), test: false, roll_call: a.id,
    }), { qos: 1 }), 300)
  }))
  clients.push(await post(st.mosq.url, 'p2', true, () => { commands.push('p2') }))
  clients.push(await post(st.mosq.url, 'p3', false, () => { commands.push('p3') }))
  await until(() => ['p1', 'p2', 'p3'].every((p) => st.service.ingest.isKnown('s1', p)), 'three posts known')
  await st.service.ingest.writer.flush()
  const t0 = Date.now()
  const r = await st.service.actions.startRollCall(st.ctx, { site: null, group: 'unit-1' }, 5)
  t.equal(r.ok, true)
  const id = (r as { id: string }).id
  t.same(await st.service.actions.startRollCall(st.ctx, { site: null, group: 'unit-1' }, 1), { ok: false, error: 'bad_deadline' })
  t.same(await st.service.actions.startRollCall(st.ctx, { site: null, group: 'nobody' }, 60), { ok: false, error: 'no_posts' })
  let rc = await st.service.store.rollCall(id)
  for (let i = 0; i < 200 && rc?.entries.find((e) => e.post === 'p1')?.state !== 'answered'; i++) {
    await new Promise((res) => setTimeout(res, 50))
    rc = await st.service.store.rollCall(id)
  }
  t.match(rc?.entries.find((e) => e.post === 'p1'), { state: 'answered', answeredBy: 'Check-in button' })
  t.ok((rc?.entries.find((e) => e.post === 'p1')?.delayMs ?? -1) >= 300, 'delay measured from the start')
  t.match(rc?.entries.find((e) => e.post === 'p3'), { state: 'offline' }, 'offline post marked at once')
  t.same(commands.sort(), ['p1', 'p2'], 'only online posts get the command')
  while (Date.now() - t0 < 5600) await new Promise((res) => setTimeout(res, 100))
  for (let i = 0; i < 40 && (await st.service.store.rollCall(id))?.entries.find((e) => e.post === 'p2')?.state !== 'missed'; i++) await new Promise((res) => setTimeout(res, 50))
  rc = await st.service.store.rollCall(id)
  t.same(rc?.entries.map((e) => [e.post, e.state]), [['p1', 'answered'], ['p2', 'missed'], ['p3', 'offline']], 'after the deadline the silent post is missed')
  const csv = rollCallCsv(rc!)
  t.match(csv, /^roll_call,started_at,deadline,by,site,post,state,answered_by,answered_at,delay_s\r\n/)
  t.match(csv, `${id},`)
  t.match(csv, ',s1,p2,missed,,,\r\n')
  const audit = await st.service.store.audit(10)
  t.match(audit.find((a) => a.action === 'roll-call'), { target: id, who: 'operator-7' })
  // The check-in was acknowledged by the roll call, so the post's gateway neither re-sends nor escalates it.
  t.match(audit.find((a) => a.action === 'ack'), { target: 's1:p1:7', who: 'roll-call' })
  t.match(acks, [{ post: 'p1', ack: { id: 's1:p1:7', by: 'roll-call' } }])
  t.match(await st.service.store.alert('s1:p1:7'), { ackBy: 'roll-call' })
})

t.test('a roll call acknowledges its answers only: a panic stays open for an operator', async (t) => {
  const st = await testStation({ web: false })
  t.teardown(st.cleanup)
  const c = await post(st.mosq.url, 'p9', true, () => {})
  t.teardown(() => c.endAsync())
  await until(() => st.service.ingest.isKnown('s1', 'p9'), 'post known')
  const alert = (id: string, kind: string, extra: Record<string, unknown> = {}) => c.publishAsync(`safehouse/v1/s1/p9/alert/b1`, JSON.stringify({
    v: 1, id, site: 's1', post: 'p9', device: 'b1', device_kind: 'panic-button', label: 'Door', kind,
    seq: 1, value: 1, hw_time: Date.now(), sent_time: Date.now(), test: false, ...extra,
  }), { qos: 1 })
  await alert('s1:p9:1', 'panic')
  await alert('s1:p9:2', 'check_in', { roll_call: 'rc-none' })
  await until(() => acks.some((a) => a.ack.id === 's1:p9:2'), 'the check-in ack')
  t.match(await st.service.store.alert('s1:p9:2'), { ackBy: 'roll-call' }, 'a check-in outside any known roll call is still acknowledged by the roll call')
  await st.service.ingest.writer.flush()
  t.match(await st.service.store.alert('s1:p9:1'), { kind: 'panic', ackBy: null }, 'the panic waits for an operator')
  t.notOk(acks.some((a) => a.ack.id === 's1:p9:1'), 'no ack was published for the panic')
})
