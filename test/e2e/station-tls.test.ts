/**
 * Issue 2 §7: mqtts:// to a real mosquitto that requires a client
 * certificate; the gateway verifies the station with the configured CA.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { readFileSync, rmSync } from 'node:fs'
import { Mosquitto } from '../harness/mosquitto.js'
import { makeTestCerts } from '../harness/test-certs.js'
import { testGateway, until } from '../harness/test-gateway.js'

t.test('mqtts with CA, client certificate and key: connects and delivers', async (t) => {
  const pki = makeTestCerts()
  t.teardown(() => rmSync(pki.dir, { recursive: true, force: true }))
  const mosq = await new Mosquitto({ extraConf: `cafile ${pki.ca}\ncertfile ${pki.serverCert}\nkeyfile ${pki.serverKey}\nrequire_certificate true` }).start()
  t.teardown(() => mosq.close())
  const url = `mqtts://127.0.0.1:${mosq.port}`
  const { gw, cleanup } = await testGateway({ stationUrl: url, station: { ca_file: pki.ca, cert_file: pki.clientCert, key_file: pki.clientKey } })
  t.teardown(cleanup)
  const tls = { ca: readFileSync(pki.ca), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) }
  const station = await mqtt.connectAsync(url, { clientId: 'station-tls', ...tls })
  t.teardown(() => station.endAsync())
  const got: string[] = []
  station.on('message', (_t, p) => got.push(JSON.parse(p.toString()).kind))
  await station.subscribeAsync('safehouse/v1/test-city/+/alert/+', { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected, 'the TLS uplink')
  t.equal(gw.uplink.protocolVersion, 5)
  gw.twins.get('counter-button')?.act('press')
  await until(() => got.length === 1, 'the alert over TLS')
  t.same(got, ['panic'])
})

t.test('mqtts with the wrong CA: the station is not trusted, nothing is sent', async (t) => {
  const pki = makeTestCerts()
  const other = makeTestCerts()
  t.teardown(() => { rmSync(pki.dir, { recursive: true, force: true }); rmSync(other.dir, { recursive: true, force: true }) })
  const mosq = await new Mosquitto({ extraConf: `cafile ${pki.ca}\ncertfile ${pki.serverCert}\nkeyfile ${pki.serverKey}` }).start()
  t.teardown(() => mosq.close())
  const { gw, cleanup } = await testGateway({ stationUrl: `mqtts://127.0.0.1:${mosq.port}`, station: { ca_file: other.ca } })
  t.teardown(cleanup)
  await gw.start()
  await until(() => gw.uplink.counters.connectFailures >= 1, 'a refused TLS handshake')
  t.notOk(gw.uplink.connected, 'never connected to an untrusted station')
})
