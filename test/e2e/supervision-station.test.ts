/**
 * Issue 6 §6, supervision as a REAL station broker (mosquitto, started here) sees it:
 * 1. A device going silent (sim BLE whistle in beacon mode, supervision_s 3, core.tick_ms 100,
 *    in-process gateway): `missing` at the station no earlier than the interval and no later
 *    than interval + one tick (timer-wheel.ts, device-supervisor.ts) + transport slack after
 *    the gateway last heard it; retained device state `missing`; `restored` and `online` when
 *    heard again.
 * 2. A gateway going silent: the real `safehouse run` process frozen with SIGSTOP, as a hung
 *    process or a cut cable (the TCP connection stays open, nothing is sent; with SIGKILL the
 *    kernel closes the socket and the will is immediate: test/provisioning/cli.test.ts). The
 *    broker must publish the retained Last Will within 1.5 × keepalive ([MQTT-3.1.2-24], MQTT 5
 *    §3.1.2.10) + what mosquitto adds; test reports stop while frozen; `online` after SIGCONT.
 * 3. Regressions: the gateway's own `missing` and its escalation never count as the device heard.
 * Measured figures are printed as TAP comments.
 */
import t from 'tap'
import mqtt from 'mqtt'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { stringify } from 'yaml'
import { startCli, tmpDir } from '../harness/cli-process.js'
import { Mosquitto, freePort } from '../harness/mosquitto.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { Kind } from '../../protocols/event-kinds.js'
import { checkPayload } from '../../protocols/mqtt/schemas.js'

t.setTimeout(90_000)

/** Device supervision interval (whistle `supervision_s`) and the wheel tick (`core.tick_ms`). */
const SUPERVISION_S = 3
const TICK_MS = 100
/** Beacons spaced above the receiver's 1 s heartbeat rate limit (HEARTBEAT_MIN_INTERVAL_MS), so each one is heard. */
const BEACON_EVERY_MS = 1100
/**
 * Transport slack, alert raised -> at the station: core dispatch, the outbox
 * commit, mqtt.js -> mosquitto -> subscriber on loopback take a few ms; the
 * rest is for the scheduler on a loaded 2-core machine (two test files at once,
 * each with a mosquitto and tsx processes), where a timer or socket callback
 * can run hundreds of ms late. The loop delay seen is printed with the result.
 */
const TRANSPORT_SLACK_MS = 500


interface Msg<T> { at: number; value: T; retain: boolean }
interface AlertBody { id: string; kind: string; device: string; value: number | null; hw_time: number; sent_time: number }
interface DeviceStateBody { status: string; status_reason?: string; last_seen: number | null; faults: string[] }

t.test('a device going silent: `missing` at the station within its interval plus one tick; `restored` when heard again', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const { gw, cleanup } = await testGateway({
    stationUrl: mosq.url,
    extra: {
      core: { tick_ms: TICK_MS },
      devices: [{ id: 'whistle-07', kind: 'ble-whistle', driver: 'sim', address: 'A4:C1:38:00:00:07', supervision_s: SUPERVISION_S }],
    },
  })
  t.teardown(cleanup)
  const dev = gw.devices.indexOf('whistle-07')
  const root = 'safehouse/v1/test-city/kiosk-001'

  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-supervision', protocolVersion: 5 })
  t.teardown(() => station.endAsync())
  const alerts: Msg<AlertBody>[] = []
  const states: Msg<DeviceStateBody>[] = []
  const bad: string[] = []
  station.on('message', (topic, p, pkt) => {
    const at = Date.now()
    const name = topic.includes('/alert/') ? 'alert' : 'deviceState'
    const r = checkPayload(name, p)
    if (!r.ok) return void bad.push(`${topic}: ${r.error}`)
    if (name === 'alert') alerts.push({ at, value: r.value as AlertBody, retain: pkt.retain })
    else states.push({ at, value: r.value as DeviceStateBody, retain: pkt.retain })
  })
  await station.subscribeAsync([`${root}/alert/whistle-07`, `${root}/device/whistle-07/state`], { qos: 1 })

  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  t.teardown(() => loop.disable())

  await gw.start()
  const whistle = gw.twins.get('whistle-07')
  if (!whistle) throw new Error('no twin for whistle-07')
  // Beacon mode: a battery-only BTHome advertisement, no button event (SimBleWhistle.battery),
  // from right after start (supervision counts from there), spaced so that every one is a heartbeat.
  let lastBeaconAt = 0
  let refused: string | null = null
  const beacon = (): void => {
    lastBeaconAt = Date.now()
    refused ??= whistle.act('battery', 92)
  }
  beacon()
  const beaconing = setInterval(beacon, BEACON_EVERY_MS)
  t.teardown(() => clearInterval(beaconing))
  await until(() => gw.uplink.connected, 'the uplink to connect')
  await until(() => states.some((s) => s.value.status === 'online'), 'the device online at the station')
  const heardAt = gw.state.lastSeen[dev]
  await until(() => gw.state.lastSeen[dev] > heardAt, 'one more beacon heard')
  clearInterval(beaconing)
  t.equal(refused, null, 'the twin took every beacon')
  // The gateway's own record of when it last heard the device (supervisor and state share ev.hwTime).
  const lastHeard = gw.state.lastSeen[dev]
  t.ok(Math.abs(lastHeard - lastBeaconAt) <= 5, 'the last beacon sent is the last one heard')
  t.same(alerts.map((a) => a.value.kind), [], 'no alert while the device beacons')

  // Silence.
  await until(() => alerts.some((a) => a.value.kind === 'missing'), 'the missing alert at the station', 15_000)
  const missing = alerts.find((a) => a.value.kind === 'missing') as Msg<AlertBody>
  const interval = SUPERVISION_S * 1000
  const detected = missing.value.hw_time - lastHeard
  const arrived = missing.at - lastHeard
  t.comment(`missing: raised ${detected} ms and at the station ${arrived} ms after the device was last heard (interval ${interval} ms, tick ${TICK_MS} ms; transport ${missing.at - missing.value.hw_time} ms)`)
  t.ok(detected >= interval, `not raised before the interval (${detected} >= ${interval} ms)`)
  t.ok(arrived >= interval, 'not at the station before the interval')
  t.ok(arrived <= interval + TICK_MS + TRANSPORT_SLACK_MS, `at the station within interval + tick + ${TRANSPORT_SLACK_MS} ms slack (${arrived} ms)`)
  t.equal(missing.value.device, 'whistle-07', 'the alert names the silent device')
  t.equal(missing.value.value, SUPERVISION_S, 'value = whole seconds of silence')
  t.equal(missing.retain, false, 'alerts are not retained')

  await until(() => states.some((s) => s.value.status === 'missing'), 'the retained device state missing at the station')
  const stMissing = states.find((s) => s.value.status === 'missing') as Msg<DeviceStateBody>
  t.comment(`device state "missing" at the station ${stMissing.at - missing.at} ms after the alert (state is flushed at most once a second)`)
  t.equal(stMissing.value.last_seen, lastHeard, 'the state shows when the device was last heard')
  t.same(stMissing.value.faults, ['missing'], 'the state lists the missing fault')
  t.match(stMissing.value.status_reason, /supervision interval/, 'and says why')
  // A console that subscribes now still sees it missing: the state is retained.
  const late = await mqtt.connectAsync(mosq.url, { clientId: 'station-late' })
  t.teardown(() => late.endAsync())
  const retained = new Promise<{ status: string; retain: boolean }>((resolve) => late.on('message', (_t, p, pkt) => resolve({ status: JSON.parse(p.toString()).status, retain: pkt.retain })))
  await late.subscribeAsync(`${root}/device/whistle-07/state`, { qos: 1 })
  t.same(await retained, { status: 'missing', retain: true }, 'a station that subscribes later sees the retained missing state')
  t.equal(alerts.filter((a) => a.value.kind === 'missing').length, 1, 'one missing alert for one silence')

  // Heard again.
  const heardAgain = Date.now()
  beacon()
  t.equal(refused, null, 'the twin took the beacon')
  await until(() => alerts.some((a) => a.value.kind === 'restored'), 'the restored alert at the station')
  const restored = alerts.find((a) => a.value.kind === 'restored') as Msg<AlertBody>
  t.equal(restored.value.value, Kind.MISSING, 'restored names what cleared: value = the missing kind code')
  t.ok(restored.value.hw_time >= heardAgain, 'restored carries the time the device was heard again')
  t.comment(`restored at the station ${restored.at - heardAgain} ms after the device was heard again`)
  await until(() => states.at(-1)?.value.status === 'online', 'the device state back online at the station')
  const back = states.at(-1) as Msg<DeviceStateBody>
  t.same(back.value.faults, [], 'the missing fault is cleared')
  t.ok((back.value.last_seen ?? 0) >= heardAgain, 'last seen moved on')
  const order = states.map((s) => s.value.status).filter((s, i, all) => s !== all[i - 1])
  t.same(order.slice(order.indexOf('online')), ['online', 'missing', 'online'], 'station sees the device online, then missing, then online')
  t.same(bad, [], 'every payload validates against its schema')
  t.comment(`event-loop delay in this process: p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms`)
})

t.test('a gateway going silent (SIGSTOP): the station sees it offline within 1.5 x keepalive; test reports stop; back online after SIGCONT', async (t) => {
  const KEEPALIVE_S = 5 // the schema's minimum (gateway/config/schema.ts station.keepalive_s)
  const TEST_REPORT_S = 2
  /**
   * What mosquitto 2.0 (Debian 12 ships 2.0.11) adds to the spec's 1.5 × keepalive: it keeps
   * time in whole seconds and disconnects once now_s - last_msg_in_s > keepalive*3/2 (integer
   * division), up to +1 s; and it sweeps for expired clients only when
   * `last_keepalive_check + 5 < now_s` (src/keepalive.c in 2.0), i.e. every 6 s: up to +6 s.
   * Measured with keepalive 5: 7.1 to 13.0 s after the last packet, depending on where the
   * sweep falls. LOAD_SLACK_MS is for the loaded machine.
   */
  const MOSQUITTO_EXTRA_MS = 1000 + 6000
  const LOAD_SLACK_MS = 1000
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const dir = tmpDir(t, 'safehouse-freeze-')
  const configFile = join(dir, 'config.yaml')
  writeFileSync(configFile, stringify({
    site: 's1',
    post: 'p1',
    data_dir: join(dir, 'data'),
    log: { level: 'warn', format: 'json' },
    metrics: { port: 0 }, // never the fixed 9464: other runs on this machine hold it
    broker: { port: await freePort() },
    station: { url: mosq.url, keepalive_s: KEEPALIVE_S, test_report_s: TEST_REPORT_S, backoff_initial_ms: 100, backoff_max_ms: 1000 },
    devices: [{ id: 'b', kind: 'panic-button', driver: 'sim' }],
  }))

  const root = 'safehouse/v1/s1/p1'
  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-freeze', protocolVersion: 5 })
  t.teardown(() => station.endAsync())
  const statuses: Msg<string>[] = []
  const reports: number[] = []
  let lastFromGateway = 0
  const bad: string[] = []
  station.on('message', (topic, p, pkt) => {
    const at = Date.now()
    if (topic === `${root}/status`) {
      const r = checkPayload<{ state: string }>('status', p)
      if (!r.ok) return void bad.push(r.error)
      statuses.push({ at, value: r.value.state, retain: pkt.retain })
      if (r.value.state === 'offline') return // the will comes from the broker, not the gateway
    } else if (topic === `${root}/test-report`) {
      const r = checkPayload<{ post: string; interval_s: number }>('testReport', p)
      if (!r.ok || r.value.post !== 'p1' || r.value.interval_s !== TEST_REPORT_S) bad.push(`test report ${p.toString()} ${r.ok ? '' : r.error}`)
      reports.push(at)
    }
    lastFromGateway = at
  })
  await station.subscribeAsync([`${root}/status`, `${root}/test-report`, `${root}/state`], { qos: 1 })

  const child = startCli(['run', '--config', configFile])
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGCONT') // SIGKILL ends a stopped process too; thaw first so nothing is ever left stopped
      child.kill('SIGKILL')
    }
    await exited
  })
  await until(() => statuses.some((s) => s.value === 'online'), 'the gateway online at the station', 30_000)
    .catch((e: Error) => { throw new Error(`${e.message}; gateway output: ${child.output.out}${child.output.err}`) })

  // Healthy: test reports arrive every test_report_s.
  await until(() => reports.length >= 3, 'three test reports', 20_000)
  const gaps = reports.slice(1).map((r, i) => r - reports[i])
  t.comment(`test reports while healthy: gaps ${gaps.join(', ')} ms (test_report_s ${TEST_REPORT_S})`)
  t.ok(gaps.every((g) => g >= TEST_REPORT_S * 1000 - 250 && g <= TEST_REPORT_S * 1000 + 2000), 'a test report about every test_report_s')

  // Freeze right after a report: the gateway's last packet and the freeze are a few ms apart.
  const n = reports.length
  await until(() => reports.length > n, 'the next test report', 10_000)
  child.kill('SIGSTOP')
  const stoppedAt = Date.now()
  const reportsBefore = reports.length
  const lastReportBefore = reports.at(-1) as number
  await until(() => statuses.at(-1)?.value === 'offline', 'the Last Will offline at the station', 30_000)
  const offline = statuses.at(-1) as Msg<string>
  const bound = 1.5 * KEEPALIVE_S * 1000
  const afterStop = offline.at - stoppedAt
  const afterLastPacket = offline.at - lastFromGateway
  t.comment(`offline at the station ${afterStop} ms after SIGSTOP, ${afterLastPacket} ms after the gateway's last message (1.5 x keepalive = ${bound} ms)`)
  t.ok(afterStop >= KEEPALIVE_S * 1000, 'not declared offline while within its keepalive')
  t.ok(afterStop <= bound + MOSQUITTO_EXTRA_MS + LOAD_SLACK_MS, `offline within 1.5 x keepalive + mosquitto's ${MOSQUITTO_EXTRA_MS} ms + ${LOAD_SLACK_MS} ms (${afterStop} ms)`)
  t.equal(reports.length, reportsBefore, 'no test report while frozen')
  const overdueAt = lastReportBefore + TEST_REPORT_S * 1000
  t.comment(`a station rule "test report overdue after test_report_s" would have fired ${offline.at - overdueAt} ms before the Last Will`)

  // A console that subscribes now sees the post offline: the will is retained.
  const late = await mqtt.connectAsync(mosq.url, { clientId: 'station-late-freeze' })
  t.teardown(() => late.endAsync())
  const retained = new Promise<{ state: string; retain: boolean }>((resolve) => late.on('message', (_t, p, pkt) => resolve({ state: JSON.parse(p.toString()).state, retain: pkt.retain })))
  await late.subscribeAsync(`${root}/status`, { qos: 1 })
  t.same(await retained, { state: 'offline', retain: true }, 'the offline status is retained')

  // Thaw: the gateway finds its connection closed, reconnects and says online again.
  const contAt = Date.now()
  child.kill('SIGCONT')
  await until(() => statuses.at(-1)?.value === 'online' && (statuses.at(-1) as Msg<string>).at > contAt, 'online again after SIGCONT', 20_000)
  const onlineAgain = statuses.at(-1) as Msg<string>
  t.comment(`online again ${onlineAgain.at - contAt} ms after SIGCONT`)
  await until(() => reports.some((r) => r > onlineAgain.at), 'test reports resume', 15_000)
  const firstAfter = reports.find((r) => r > contAt) as number
  t.comment(`test reports: last before the freeze to first after it ${firstAfter - lastReportBefore} ms (frozen ${contAt - stoppedAt} ms)`)
  t.match(child.output.out + child.output.err, /station connection lost/, 'the gateway logged the lost station connection')
  t.same(bad, [], 'every status and test report is well-formed')
  t.equal(child.exitCode, null, 'the gateway survived the freeze')
})

t.test('a silent device stays missing while the station does not acknowledge: the ack-timeout escalation is not the device being heard', async (t) => {
  // Regression: the AckWatcher's `escalation` of the unacknowledged `missing` alert once counted
  // as hearing the device: a false `restored`, then `missing` again, every ack_timeout_s +
  // supervision_s until the station acknowledged (gateway/state/fault-kinds.ts isRaisedByGateway).
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const { gw, cleanup } = await testGateway({
    stationUrl: mosq.url,
    station: { ack_timeout_s: 1 },
    extra: {
      core: { tick_ms: TICK_MS },
      devices: [{ id: 'whistle-07', kind: 'ble-whistle', driver: 'sim', address: 'A4:C1:38:00:00:07', supervision_s: 2 }],
    },
  })
  t.teardown(cleanup)
  const root = 'safehouse/v1/test-city/kiosk-001'
  const station = await mqtt.connectAsync(mosq.url, { clientId: 'station-no-ack', protocolVersion: 5 })
  t.teardown(() => station.endAsync())
  const alerts: AlertBody[] = []
  const states: DeviceStateBody[] = []
  station.on('message', (topic, p) => {
    if (topic.includes('/alert/')) alerts.push(JSON.parse(p.toString()) as AlertBody)
    else states.push(JSON.parse(p.toString()) as DeviceStateBody)
  })
  await station.subscribeAsync([`${root}/alert/whistle-07`, `${root}/device/whistle-07/state`], { qos: 1 })
  await gw.start()
  t.equal(gw.twins.get('whistle-07')?.act('battery', 92), null, 'one beacon, then silence')
  await until(() => alerts.some((a) => a.kind === 'missing'), 'the missing alert', 15_000)
  await until(() => alerts.some((a) => a.kind === 'escalation'), 'the escalation of the unacknowledged missing alert', 15_000)
  await new Promise((r) => setTimeout(r, 1500)) // the device state is flushed at most once a second
  t.same(alerts.filter((a) => a.kind === 'restored'), [], 'no restored while the device stays silent')
  t.equal(states.at(-1)?.status, 'missing', 'the device state stays missing')
})
