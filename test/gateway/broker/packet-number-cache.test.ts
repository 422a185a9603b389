/**
 * Issue 13 §6: mqtt-packet, the writer aedes and mqtt.js share, would build a
 * cache of 65,536 two-byte Buffers (6.3 MB of heap) at its first write; the
 * embedded broker turns it off. Proved with real QoS 1 traffic both ways
 * through the broker: deliveries work and the cache stays empty.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { createRequire } from 'node:module'
import { testGateway, USERS } from '../../harness/test-gateway.js'

const numbers = createRequire(import.meta.url)('mqtt-packet/numbers.js') as { cache: Record<number, Buffer> }
const ROOT = 'safehouse/v1/test-city/kiosk-001'

t.test('QoS 1 traffic through the embedded broker builds no packet-id cache', async (t) => {
  const { gw, cleanup } = await testGateway()
  t.teardown(cleanup)
  await gw.start()
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, { username: USERS.technician.username, password: USERS.technician.password, clientId: 'cache-check', reconnectPeriod: 0 })
  t.teardown(() => c.endAsync(true))
  const got = new Promise<string>((resolve) => c.once('message', (topic) => resolve(topic)))
  await c.subscribeAsync(`${ROOT}/cmd-check`, { qos: 1 })
  gw.broker.publish(`${ROOT}/cmd-check`, Buffer.from('x'), 1, false)
  t.equal(await got, `${ROOT}/cmd-check`, 'a QoS 1 delivery from the broker arrives')
  t.equal(Object.keys(numbers.cache).length, 0, 'mqtt-packet built no cache of 65,536 packet-id Buffers')
})
