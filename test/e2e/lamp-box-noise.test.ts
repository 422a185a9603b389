/**
 * Issue 11 §5 and "Bad input": 10,000 random bytes injected on the lamp box's
 * RS-485 line (the slave's end of the PTY) while the gateway polls it and a
 * person presses the counter button. The line is survived, the garbage is
 * counted in the lamp box's device state (`modbus_garbage_bytes`), and the
 * station sees exactly the one alarm that was raised: no phantom alert.
 */
import t from 'tap'
import { lampPost } from '../harness/lamp-post.js'
import { seededRandom } from '../harness/seeded-random.js'
import { until } from '../harness/test-gateway.js'
import { ALARM_KINDS } from '../../gateway/state/fault-kinds.js'
import { kindFromName } from '../../protocols/event-kinds.js'

const BYTES = 10_000
const CHUNK = 125

t.test(`${BYTES} random bytes on the lamp box line: no phantom alert, garbage counted`, async (t) => {
  // supervision_s 5: the noise is a few seconds of bursts between good polls, not a dead line.
  const post = await lampPost(t, { supervision_s: 5 }, 11)
  const rnd = seededRandom(20261207)
  const lampIdx = post.gw.devices.entries.find((e) => e.id === 'lamp-box')!.index
  const garbage = (): number => post.gw.state.counters[lampIdx].get('modbus_garbage_bytes') ?? 0
  for (let sent = 0; sent < BYTES; sent += CHUNK) {
    const chunk = new Uint8Array(CHUNK)
    for (let i = 0; i < CHUNK; i++) chunk[i] = Math.floor(rnd() * 256)
    post.slave.inject(chunk)
    if (sent === BYTES / 2) post.gw.twins.get('counter-button')?.act('press')
    await new Promise((r) => setTimeout(r, 40))
  }
  await until(() => post.of('panic').length === 1, 'the one real press at the station')
  // Let the polls after the noise carry the count to the state.
  const polls = post.slave.requests.filter((r) => r.fc === 4).length
  await until(() => post.slave.requests.filter((r) => r.fc === 4).length >= polls + 3, 'three polls after the noise')
  const alarms = post.alerts.filter((a) => ALARM_KINDS.has(kindFromName(a.kind) ?? -1))
  t.equal(alarms.length, 1, `exactly one alarm, the press (alerts: ${post.alerts.map((a) => a.kind).join(', ')})`)
  t.equal(alarms[0].device, 'counter-button')
  t.same(post.alerts.filter((a) => a.device === 'lamp-box').map((a) => a.kind), [], 'no lamp-box alert from noise alone')
  t.ok(garbage() >= BYTES * 0.9, `garbage counted: ${garbage()} of ${BYTES} injected bytes (a byte that lands inside a reply is a CRC error instead; a reply spoilt by noise counts too)`)
  const crc = post.gw.state.counters[lampIdx].get('modbus_crc') ?? 0
  t.comment(`modbus_garbage_bytes ${garbage()}, modbus_crc ${crc}, modbus_timeout ${post.gw.state.counters[lampIdx].get('modbus_timeout') ?? 0}`)
  await until(() => post.gw.state.status[lampIdx] === 'online', 'the lamp box online after the noise')
})
