/**
 * A station broker that refuses one of the station service's SUBSCRIBEs (SUBACK 0x80): what NATS 2.9
 * does under load when creating the JetStream consumer times out (docs/city.md). Before, the station
 * logged it once and stayed deaf to those topics; now it subscribes again (1, 2, 4 … s) until granted,
 * and exposes the refusals. Real broker: aedes, its authorizeSubscribe refusing the alert filter.
 */
import t from 'tap'
import mqtt from 'mqtt'
import pino from 'pino'
import { aedesOnLoopback } from '../harness/aedes-on-loopback.js'
import { until } from '../harness/until.js'
import { StationBroker } from '../../station/ingest/station-broker.js'

const ALERTS = 'safehouse/v1/+/+/alert/#'
const ACKS = 'safehouse/v1/+/+/ack'

function refusingBroker(refuse: (topic: string) => boolean) {
  return aedesOnLoopback({ authorizeSubscribe: (_c, sub, cb) => cb(null, refuse(sub.topic) ? null : sub) })
}

t.test('a refused alert filter is subscribed again until granted; the granted one works throughout', async (t) => {
  let refusals = 0
  const b = await refusingBroker((topic) => topic === ALERTS && refusals++ < 2)
  t.teardown(b.close)
  const logs: string[] = []
  const sb = new StationBroker({ url: b.url, username: null, password: null, caFile: null, clientId: 'st-refused', protocol: '3.1.1', log: pino({ level: 'info' }, { write: (l: string) => { logs.push(l) } }) })
  t.teardown(() => sb.stop())
  const got: string[] = []
  await sb.start([ALERTS, ACKS], (topic) => got.push(topic))
  t.same(sb.refusedFilters, [ALERTS], 'the refused filter is known right after the start (the ack filter was granted)')
  t.equal(sb.subscribeRefusals, 1)
  t.match(logs.join(''), /station broker refused subscriptions.*subscribing again/)

  const pub = await mqtt.connectAsync(b.url, { clientId: 'gw' })
  t.teardown(() => pub.endAsync())
  await pub.publishAsync('safehouse/v1/s1/p1/ack', '{}', { qos: 1 })
  await until(() => got.includes('safehouse/v1/s1/p1/ack'), 'the granted filter delivering while the other is refused', 15_000)

  await until(() => sb.refusedFilters.length === 0, 'the alert filter granted on a retry (after 1 s and 2 s)', 15_000)
  t.equal(sb.subscribeRefusals, 2, 'refused twice, granted the third time')
  t.match(logs.join(''), /granted the subscriptions it had refused/)
  await pub.publishAsync('safehouse/v1/s1/p1/alert/btn', '{}', { qos: 1 })
  await until(() => got.includes('safehouse/v1/s1/p1/alert/btn'), 'the alert delivered once the filter was granted', 15_000)
})

t.test('a filter refused for good stays visible and keeps being retried, without a crash', async (t) => {
  const b = await refusingBroker((topic) => topic === ALERTS)
  t.teardown(b.close)
  const sb = new StationBroker({ url: b.url, username: null, password: null, caFile: null, clientId: 'st-refused-2', protocol: '3.1.1', log: pino({ level: 'silent' }) })
  await sb.start([ALERTS], () => {})
  await until(() => sb.subscribeRefusals >= 2, 'a second attempt', 15_000)
  t.same(sb.refusedFilters, [ALERTS], 'still refused: the gauge stays at 1')
  await sb.stop()
  const n = sb.subscribeRefusals
  await new Promise((r) => setTimeout(r, 2500))
  t.equal(sb.subscribeRefusals, n, 'no retry after stop()')
})
