/**
 * Issue 13 §1: every socket that carries alerts, acks or commands writes
 * without Nagle's delay. Node has no getter for TCP_NODELAY, so the socket
 * prototype's setNoDelay is recorded (this file's process only) and the real
 * sockets of a real gateway are checked: the uplink to a real mosquitto, the
 * embedded broker's side of a local client, a group peer link.
 */
import t from 'tap'
import { Socket } from 'node:net'
import mqtt from 'mqtt'
import { pino } from 'pino'
import { Mosquitto } from '../../harness/mosquitto.js'
import { testGateway, until, USERS } from '../../harness/test-gateway.js'
import { PeerLink } from '../../../gateway/group/peer-link.js'
import { Backoff } from '../../../devices/time/backoff.js'
import { systemClock } from '../../../devices/time/clock.js'

const noDelayOn = new WeakSet<Socket>()
const original = Socket.prototype.setNoDelay
Socket.prototype.setNoDelay = function (this: Socket, enable?: boolean) {
  if (enable !== false) noDelayOn.add(this)
  else noDelayOn.delete(this)
  return original.call(this, enable)
}
t.teardown(() => { Socket.prototype.setNoDelay = original })

function connectedTo(port: number, side: 'remote' | 'local', sockets: Socket[]): Socket[] {
  return sockets.filter((s) => (side === 'remote' ? s.remotePort : s.localPort) === port)
}

/** Every open TCP socket of this process (Node's active handles). */
function openSockets(): Socket[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles()
  return handles.filter((h): h is Socket => h instanceof Socket)
}

t.test('uplink to the station and embedded broker connections: TCP_NODELAY set', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.stop())
  const { gw, cleanup } = await testGateway({ stationUrl: mosq.url })
  t.teardown(cleanup)
  await gw.start()
  await until(() => gw.uplink.state === 'connected', 'uplink connected')

  const uplink = connectedTo(mosq.port, 'remote', openSockets())
  t.equal(uplink.length, 1, 'one socket to the station broker')
  t.ok(uplink.every((s) => noDelayOn.has(s)), 'the uplink socket writes without Nagle delay')

  const panel = await mqtt.connectAsync(`mqtt://127.0.0.1:${gw.broker.port}`, { username: USERS.panel.username, password: USERS.panel.password, reconnectPeriod: 0 })
  t.teardown(() => panel.endAsync())
  const served = connectedTo(gw.broker.port, 'local', openSockets())
  t.equal(served.length, 1, 'the broker holds one client socket')
  t.ok(served.every((s) => noDelayOn.has(s)), 'the embedded broker writes to its client without Nagle delay')
})

t.test('group peer link: TCP_NODELAY set', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.stop())
  const link = new PeerLink({
    post: 'kiosk-002', url: mosq.url, clientId: 'peer-nodelay-test', username: null, password: null, caFile: null,
    clock: systemClock, log: pino({ level: 'silent' }), backoff: new Backoff(100, 1000),
  })
  link.start()
  t.teardown(() => link.stop())
  await until(() => link.connected, 'peer link connected')
  const sockets = connectedTo(mosq.port, 'remote', openSockets())
  t.equal(sockets.length, 1, 'one socket to the peer')
  t.ok(sockets.every((s) => noDelayOn.has(s)), 'the peer link writes without Nagle delay')
})
