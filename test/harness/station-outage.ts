/**
 * Issue 6 §6: the station is unreachable while a post keeps raising alerts.
 * A real mosquitto (default queue limits, persistent) is the station; the
 * gateway runs in process with the durable FILE outbox; a station console
 * acknowledges every alert it receives. `alerts` alerts from several devices
 * are raised while the station broker is down; when it returns, every one
 * arrives (same id for a repeat), in order per device, and the outbox drains
 * to empty once acked. Used by test/e2e/long-outage.test.ts (minutes) and
 * test/e2e/replay-burst.test.ts (seconds).
 */
import type { Test } from 'tap'
import mqtt from 'mqtt'
import { Mosquitto } from './mosquitto.js'
import { testGateway, until } from './test-gateway.js'
import { Kind } from '../../protocols/event-kinds.js'

/** The alerts are spread over this share of the outage, from its start. */
const SPREAD = 0.9
const TICK_MS = 100
const DEVICES = ['btn-1', 'btn-2', 'btn-3', 'btn-4', 'btn-5']
const ROOT = 'safehouse/v1/test-city/kiosk-001'

interface Seen { id: string; seq: number; device: string; kind: string; value: number; hwTime: number }

export interface StationOutageOptions {
  outageMs: number
  alerts: number
  /**
   * The gateway's station.ack_timeout_s (default: the product's 30). When the outage outlasts it
   * (plus the watcher's 1 s scan and room), the test also asserts that it fired during the outage.
   */
  ackTimeoutS?: number
}

export async function stationOutage(t: Test, o: StationOutageOptions): Promise<{ resends: number; drainMs: number }> {
  const ackTimeoutS = o.ackTimeoutS ?? 30
  // A real station broker keeps sessions across its own restart (persistence), so the
  // console's subscription survives the outage, as it would in a command room.
  // Mosquitto's default queue limits (max_queued_messages 1000 per client): the gateway's
  // send window (gateway/uplink/send-window.ts) must keep a large replay inside them.
  const mosq = await new Mosquitto({ persistent: true }).start()
  t.teardown(() => mosq.close())
  const { gw, cleanup } = await testGateway({
    stationUrl: mosq.url,
    outbox: 'file',
    station: { ack_timeout_s: ackTimeoutS },
    extra: { devices: DEVICES.map((id) => ({ id, kind: 'panic-button', driver: 'sim' })) },
  })
  t.teardown(cleanup)

  // The station console: MQTT 3.1.1 persistent session, acks every alert it receives.
  const console_ = await mqtt.connectAsync(mosq.url, { clientId: `station-console-${o.outageMs}`, clean: false, reconnectPeriod: 250, protocolVersion: 4 })
  t.teardown(() => console_.endAsync(true))
  const seen: Seen[] = []
  const byId = new Map<string, Seen>()
  let repeats = 0
  let mismatched = 0
  console_.on('message', (_topic, p) => {
    const a = JSON.parse(p.toString()) as { id: string; seq: number; device: string; kind: string; value: number; hw_time: number }
    const s: Seen = { id: a.id, seq: a.seq, device: a.device, kind: a.kind, value: a.value, hwTime: a.hw_time }
    const before = byId.get(s.id)
    if (before) {
      repeats++
      if (before.device !== s.device || before.kind !== s.kind || before.value !== s.value || before.hwTime !== s.hwTime) mismatched++
    } else {
      byId.set(s.id, s)
      seen.push(s)
    }
    console_.publish(`${ROOT}/ack`, JSON.stringify({ id: a.id, by: 'console-long' }), { qos: 1 })
  })
  await console_.subscribeAsync(`${ROOT}/alert/+`, { qos: 1 })

  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink to connect', 20_000)
  const indexes = DEVICES.map((id) => gw.devices.indexOf(id))
  t.notOk(indexes.includes(-1), 'every test device is in the device table')

  await mosq.stop()
  const outageStart = Date.now()
  await until(() => !gw.uplink.connected, 'the uplink to notice the outage', 20_000)

  // Raise the alerts in small batches spread over the outage, round-robin over the devices.
  // Each device's hardware time advances per alert and every input carries its own key
  // (as a BLE packet id would), so dedupe merges none of them.
  const hwBase = Date.now()
  const ticks = Math.floor((o.outageMs * SPREAD) / TICK_MS)
  let raised = 0
  for (let tick = 0; tick < ticks && raised < o.alerts; tick++) {
    const upTo = Math.round(((tick + 1) / ticks) * o.alerts)
    for (; raised < upTo; raised++) {
      const k = raised + 1
      const d = raised % DEVICES.length
      gw.core.input(indexes[d], Kind.PANIC, k, hwBase + Math.floor(raised / DEVICES.length), Number.NaN, k)
    }
    const due = outageStart + (tick + 1) * TICK_MS
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())))
  }
  t.equal(raised, o.alerts, `${o.alerts} alerts raised`)
  t.equal(gw.core.counters.badInputs, 0, 'every input accepted by the core')
  await until(() => gw.outbox.stats().appended >= o.alerts, 'every alert in the outbox', 30_000)
  const rest = o.outageMs - (Date.now() - outageStart)
  if (rest > 0) await new Promise((r) => setTimeout(r, rest))
  const during = gw.outbox.stats()
  t.ok(during.depth >= o.alerts, `all ${o.alerts} wait in the outbox (depth ${during.depth}, incl. escalations)`)
  t.equal(during.writeErrors, 0, 'every alert stored durably (no write errors, outbox not full)')
  t.notOk(gw.uplink.connected, 'still disconnected at the end of the outage')
  if (o.outageMs >= ackTimeoutS * 1000 + 5000) {
    t.ok(gw.ackWatcher.escalations > 0, `the ${ackTimeoutS} s ack timeout fired during the ${o.outageMs / 1000} s outage (${gw.ackWatcher.escalations} escalations)`)
  }
  t.comment(`outage ${((Date.now() - outageStart) / 1000).toFixed(0)} s; outbox depth ${during.depth}; escalations raised ${gw.ackWatcher.escalations}`)

  await mosq.start()
  const back = Date.now()
  await until(() => gw.uplink.connected, 'the uplink to reconnect', 30_000)
  const reconnected = Date.now()
  const ours = (): number => seen.reduce((n, s) => n + (s.kind === 'panic' ? 1 : 0), 0)
  await until(() => ours() >= o.alerts, `all ${o.alerts} alerts at the station (have ${ours()})`, 180_000)
  const arrived = Date.now()
  await until(() => gw.outbox.stats().depth === 0, 'the outbox to drain once acknowledged', 120_000)
  const drained = Date.now()
  t.comment(`station back -> uplink connected ${reconnected - back} ms; -> all ${o.alerts} alerts at the station ${arrived - reconnected} ms; ` +
    `-> outbox empty ${drained - reconnected} ms (${Math.round(o.alerts / ((drained - reconnected) / 1000))} alerts/s); ` +
    `repeats seen by the station ${repeats}; replayed ${gw.uplink.counters.alertsReplayed}; ack-timeout resends ${gw.ackWatcher.resends}`)

  // Every alert arrived once under one unique id, with the payload it was raised with.
  const panics = seen.filter((s) => s.kind === 'panic')
  t.equal(panics.length, o.alerts, `exactly ${o.alerts} distinct panic alerts (by id)`)
  t.equal(new Set(panics.map((s) => s.value)).size, o.alerts, 'each raised alert arrived (values 1..N, none missing)')
  t.equal(new Set(panics.map((s) => s.seq)).size, o.alerts, 'ids (sequence numbers) unique')
  t.ok(panics.every((s) => s.value >= 1 && s.value <= o.alerts), 'nothing that was not raised')
  t.equal(mismatched, 0, 'a repeated id always carries the same device, kind, value and hw_time')
  // In order per device: first arrivals per device in increasing seq and in the order raised.
  for (const dev of DEVICES) {
    const mine = panics.filter((s) => s.device === dev)
    let inOrder = true
    for (let i = 1; i < mine.length; i++) {
      if (!(mine[i].seq > mine[i - 1].seq && mine[i].value > mine[i - 1].value && mine[i].hwTime >= mine[i - 1].hwTime)) { inOrder = false; break }
    }
    t.ok(inOrder, `${dev}: ${mine.length} alerts, first arrivals in increasing seq and in the order raised`)
  }
  const after = gw.outbox.stats()
  t.equal(after.depth, 0, 'outbox empty')
  t.equal(after.writeErrors, 0)
  // An ack is unknown only when it answers a repeat whose id an earlier ack already removed.
  t.ok(gw.counters.unknownAcks <= repeats, `unknown acks (${gw.counters.unknownAcks}) only for repeats (${repeats})`)
  return { resends: gw.ackWatcher.resends, drainMs: drained - reconnected }
}
