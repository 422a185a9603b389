/**
 * Issue 12 §1, §2 over TCP with production-cost hashes (scrypt N=16384): a
 * flood of bad logins does not hold up the alarm, and a refusal costs the
 * same for a known and an unknown username.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { Mosquitto } from '../../harness/mosquitto.js'
import { rawConnect } from '../../harness/raw-mqtt.js'
import { testGateway, until, USERS } from '../../harness/test-gateway.js'

const ROOT = 'safehouse/v1/test-city/kiosk-001'
const TECH = USERS.technician

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

t.test('a flood of bad logins for a real user does not slow an alarm to the station (§1)', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  // Production-cost hashes (N=16384) and a file outbox: its fs writes share the libuv threadpool with scrypt.
  const { gw, cleanup } = await testGateway({ stationUrl: mosq.url, outbox: 'file', hashN: 16384 })
  t.teardown(cleanup)
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink')
  const station = await mqtt.connectAsync(mosq.url, { clientId: 'login-flood-station' })
  t.teardown(() => station.endAsync(true))
  const arrivals: number[] = []
  station.on('message', () => arrivals.push(performance.now()))
  await station.subscribeAsync(`${ROOT}/alert/+`, { qos: 1 })

  // 300 wrong-password logins for the technician, at once, from 30 hosts.
  const flood = Array.from({ length: 300 }, (_, i) => rawConnect(gw.broker.port, { clientId: `f${i}`, username: TECH.username, password: `guess-${i}`, localAddress: `127.0.0.${2 + (i % 30)}` }, 30_000, 5000))
  await until(() => gw.broker.counters.refusedBadLogin >= 1, 'the flood reaching the password check')
  const pressed = performance.now()
  gw.twins.get('counter-button')!.act('press')
  await until(() => arrivals.length >= 1, 'the alarm at the station', 20_000)
  const delay = arrivals[0] - pressed
  const results = await Promise.all(flood)
  // Bound: half of EN 50131-1's 10 s, with room for a loaded test machine (the flood runs in this
  // process); before the fix 100 bad logins alone delayed it 6.3 s, 500 by 28-31 s.
  t.ok(delay < 5000, `the alarm reached the station in ${delay.toFixed(0)} ms during the flood`)
  t.ok(results.every((r) => r.code === 3 || r.code === 4), 'every flood login was refused (4 checked and wrong, 3 refused unchecked)')
  // Closed, not left open: within 5 s of the CONNACK (300 sockets closing in one process on a loaded
  // 2-core CI machine took longer than the default 1 s once).
  t.ok(results.every((r) => r.closed), 'and closed')
  t.equal(gw.broker.checker.stats.maxRunning, 1, 'never more than one password check at a time')
  t.ok(gw.broker.checker.stats.checked <= 40, `${gw.broker.checker.stats.checked} of 300 logins cost a password check`)
  t.ok(gw.broker.counters.refusedBackoff + gw.broker.counters.refusedBusy + gw.broker.counters.refusedTooMany > 200, 'the rest were refused without one')
  // The station's own clients are not locked out: the Pi itself (exempt), and a LAN host that logged in before.
  const local = await rawConnect(gw.broker.port, { clientId: 'desk-local', username: USERS.station.username, password: USERS.station.password })
  t.equal(local.code, 0, 'the local console logs in during the lockout')
})

t.test('a known and an unknown username take the same time to refuse (§2)', async (t) => {
  const { gw, cleanup } = await testGateway({ hashN: 16384 })
  t.teardown(cleanup)
  await gw.start()
  const known: number[] = []
  const unknown: number[] = []
  for (let i = 0; i < 9; i++) {
    known.push((await rawConnect(gw.broker.port, { clientId: `k${i}`, username: TECH.username, password: 'wrong-password' })).ms)
    unknown.push((await rawConnect(gw.broker.port, { clientId: `u${i}`, username: `nobody-${i}`, password: 'wrong-password' })).ms)
  }
  const ratio = median(known) / median(unknown)
  t.ok(ratio > 0.6 && ratio < 1.6, `median ${median(known).toFixed(1)} ms known vs ${median(unknown).toFixed(1)} ms unknown (ratio ${ratio.toFixed(2)}; was 48.7 vs 5.6)`)
})

