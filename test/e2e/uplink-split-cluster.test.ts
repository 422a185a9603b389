/**
 * Issue 16 §1 bad input: "a split cluster that answers from two sides -> no
 * alert acknowledged without the station service having stored it".
 *
 * Two real mosquittos that do not share anything (a cluster split in two).
 * The real station service (SQLite) reads side A only; the gateway's
 * endpoints are [A (through a path we can cut), B]. Cut from A, the gateway
 * fails over to B, which accepts the alarm and PUBACKs it (and every resend)
 * like any healthy broker, though nobody stores it there. The alarm must stay
 * in the outbox: only the station's ack, which an operator gives on a stored
 * alert, removes it. Once the gateway reaches A again the station stores it,
 * and the operator's ack clears it.
 */
import t from 'tap'
import { Mosquitto } from '../harness/mosquitto.js'
import { testStation } from '../harness/station-service.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { TcpPath } from '../harness/tcp-path.js'
import { Kind } from '../../protocols/event-kinds.js'

t.test('a PUBACK from the other side of a split never acknowledges an alert', async (t) => {
  const a = await new Mosquitto().start()
  const b = await new Mosquitto().start()
  t.teardown(() => Promise.all([a.close(), b.close()]))
  const st = await testStation({ web: false, mosq: a })
  t.teardown(() => st.cleanup())
  const toA = await new TcpPath(() => a.port).start()
  t.teardown(() => toA.close())
  const { gw, cleanup } = await testGateway({ station: { endpoints: [toA.url, b.url], ack_timeout_s: 1 } })
  t.teardown(cleanup)
  const button = gw.devices.indexOf('counter-button')
  const raise = (v: number): void => { gw.core.input(button, Kind.PANIC, v, Date.now(), Number.NaN, v) }
  const stored = async (id: string): Promise<boolean> => (await st.service.store.alerts({ post: 'kiosk-001', kind: 'panic' })).some((r) => r.id === id)
  const pendingIds = (): string[] => gw.outbox.pending().map((e) => e.id)
  const link = gw.uplink.links[0]

  await gw.start()
  await until(() => gw.uplink.connected && link.endpoint === 0, 'the gateway on side A')
  raise(1)
  const id1 = gw.outbox.pending()[0]?.id ?? ''
  let ok = false
  await until(() => { void stored(id1).then((s) => { ok = s }); return ok }, 'alert 1 stored by the station service')
  t.same(await st.service.actions.acknowledge(st.ctx, id1, null), { ok: true }, 'the operator acknowledges the stored alert')
  await until(() => !pendingIds().includes(id1), 'alert 1 acknowledged at the gateway')

  // The split: the gateway loses side A (the station keeps it) and fails over to B.
  toA.cut()
  await until(() => gw.uplink.connected && link.endpoint === 1, 'the gateway on side B')
  raise(2)
  const entry = gw.outbox.pending().find((e) => e.id !== id1 && e.payload.includes('"kind":"panic"'))
  t.ok(entry, 'alert 2 in the outbox')
  const id2 = entry!.id
  // B takes it and every ack-timeout resend with a PUBACK (no publish error), and stores nothing.
  await until(() => entry!.attempts >= 3, 'alert 2 sent to B and resent after the ack timeout', 15_000)
  t.equal(gw.uplink.counters.publishErrors, 0, 'B acknowledged every publish at the MQTT level')
  t.ok(pendingIds().includes(id2), 'alert 2 is still in the outbox: a broker PUBACK is no acknowledgement')
  t.notOk(await stored(id2), 'the station service has not stored alert 2')
  t.ok(gw.state.open.has(id2), 'alert 2 still open at the gateway (not acknowledged)')

  // Side A reachable again: the gateway stays on B while B works, so alert 2 still waits.
  toA.restore()
  await new Promise((r) => setTimeout(r, 2000))
  t.equal(link.endpoint, 1, 'still on B (a healthy node is kept)')
  t.ok(pendingIds().includes(id2), 'alert 2 still waits for the station')

  // B goes: the gateway returns to A, replays alert 2 under its id; the station stores it.
  await b.stop()
  await until(() => gw.uplink.connected && link.endpoint === 0, 'the gateway back on side A', 15_000)
  ok = false
  await until(() => { void stored(id2).then((s) => { ok = s }); return ok }, 'alert 2 stored by the station service', 15_000)
  t.ok(pendingIds().includes(id2), 'stored, but not yet acknowledged by anyone: still in the outbox')
  t.same(await st.service.actions.acknowledge(st.ctx, id2, 'after the split'), { ok: true })
  await until(() => !pendingIds().includes(id2), 'alert 2 acknowledged at the gateway')
  t.equal(gw.state.lastAck?.by, 'operator-7', 'acknowledged by the operator, through the station service')
  const rows = (await st.service.store.alerts({ post: 'kiosk-001', kind: 'panic' })).map((r) => r.id).sort()
  t.same(rows, [id1, id2].sort(), 'the station stored each alarm once, under the id the gateway gave it')
})
