/**
 * Issue 2 §11, end to end on real components, with a REAL mosquitto as the
 * station broker (MQTT 5): the contract suite (station-contract-suite.ts,
 * also run against a NATS cluster by station-nats-cluster.test.ts), plus the
 * MQTT 3.1.1 fallback against aedes.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { aedesOnLoopback } from '../harness/aedes-on-loopback.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { mosquittoBroker } from '../harness/station-broker-under-test.js'
import { stationContractSuite } from './station-contract-suite.js'

stationContractSuite(t, mosquittoBroker)

t.test('MQTT 3.1.1-only station broker (aedes): the uplink falls back and still delivers', async (t) => {
  const { url, close } = await aedesOnLoopback({})
  t.teardown(close)
  const { gw, cleanup } = await testGateway({ stationUrl: url })
  t.teardown(cleanup)
  const station = await mqtt.connectAsync(url, { clientId: 'station-311', protocolVersion: 4 })
  t.teardown(() => station.endAsync())
  const got: string[] = []
  station.on('message', (_t, p) => got.push(JSON.parse(p.toString()).kind))
  await station.subscribeAsync('safehouse/v1/test-city/+/alert/+', { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink to connect after falling back')
  t.equal(gw.uplink.protocolVersion, 4, 'speaks MQTT 3.1.1')
  t.equal(gw.uplink.counters.fallbacks, 1, 'one fallback counted')
  gw.twins.get('counter-button')?.act('press')
  await until(() => got.length === 1, 'the alert over 3.1.1')
  t.same(got, ['panic'])
})
