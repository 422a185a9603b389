/**
 * Roll call end to end on real components (issue 15, closing the twin-only
 * gap): the station service (SQLite) starts a roll call over a real mosquitto,
 * the post's gateway shows it, a volunteer presses the `role: check_in` button
 * wired to a Firmata board (johnny-five + serialport on a socat PTY, the
 * Firmata peer on the other end), and the station marks the post answered.
 * Both directions: the press is exactly one `check_in`; a second press and a
 * press outside the roll call raise nothing. The roll call acknowledges its
 * answer, so the gateway's outbox empties and no `escalation` follows after
 * `ack_timeout_s` (an unacknowledged check-in used to escalate: crying wolf).
 */
import t from 'tap'
import { Mosquitto } from '../harness/mosquitto.js'
import { PtyPair } from '../harness/pty-pair.js'
import { FirmataPeer } from '../harness/firmata-peer.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { testStation } from '../harness/station-service.js'

t.setTimeout(90_000)
const ACK_TIMEOUT_S = 2
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('a roll call answered by a wired check-in button is stored, acknowledged and never escalated', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const st = await testStation({ web: false, mosq })
  t.teardown(st.cleanup)
  const pty = await new PtyPair('roll-call-firmata').open()
  const peer = await FirmataPeer.open(pty.b)
  t.teardown(async () => { await peer.close(); await pty.close() })
  const { gw, cleanup } = await testGateway({
    stationUrl: mosq.url,
    station: { ack_timeout_s: ACK_TIMEOUT_S },
    extra: {
      boards: [{ id: 'main', port: pty.a, version_query_ms: 100 }],
      devices: [
        { id: 'counter', kind: 'panic-button', driver: 'firmata', board: 'main', pin: 2, label: 'Counter button' },
        { id: 'check-in', kind: 'panic-button', driver: 'firmata', board: 'main', pin: 3, role: 'check_in', label: 'Check-in button' },
      ],
    },
  })
  t.teardown(cleanup)
  await gw.start()
  await peer.until(() => peer.isReportingDigital(3), 'the board to report pin 3', 10_000)
  await until(() => st.service.ingest.isKnown('test-city', 'kiosk-001'), 'the post known to the station')

  const press = async (pin: number) => {
    peer.setDigital(pin, 0)
    await sleep(250)
    peer.setDigital(pin, 1)
    await sleep(250)
  }
  const stored = async () => (await st.service.store.alerts({ limit: 100 })).filter((a) => a.post === 'kiosk-001')

  // Outside a roll call the check-in button raises nothing.
  await press(3)
  await st.service.ingest.writer.flush()

  const r = await st.service.actions.startRollCall(st.ctx, { site: null, group: 'unit-1' }, 60)
  t.equal(r.ok, true, 'roll call started')
  const id = (r as { id: string }).id
  await until(() => gw.rollCall.current?.id === id, 'the roll call shown on the post')
  await press(3)
  await until(() => gw.rollCall.current === null || gw.rollCall.current.answered, 'the check-in taken by the post')
  await press(3) // a second press during the same roll call: counted, not sent

  let rc = await st.service.store.rollCall(id)
  for (let i = 0; i < 200 && rc?.entries[0]?.state !== 'answered'; i++) {
    await sleep(50)
    rc = await st.service.store.rollCall(id)
  }
  t.match(rc?.entries, [{ site: 'test-city', post: 'kiosk-001', state: 'answered', answeredBy: 'Check-in button' }])
  await until(() => gw.outbox.stats().depth === 0, 'the check-in acknowledged (the gateway outbox empty)')
  // Past the ack timeout: an acknowledged check-in is neither re-sent nor escalated.
  await sleep(ACK_TIMEOUT_S * 1000 + 1500)
  await st.service.ingest.writer.flush()
  const alerts = await stored()
  t.same(alerts.map((a) => [a.kind, a.device, a.ackBy]), [['check_in', 'check-in', 'roll-call']], 'exactly one check_in, acknowledged by the roll call; no escalation, nothing from the other presses')
  t.equal(gw.ackWatcher.escalations, 0, 'the gateway escalated nothing')
})
