/**
 * A post with a real lamp box line for end-to-end tests (issue 11): a socat PTY
 * pair, the Modbus slave (test/harness/lamp-box-slave.ts) on one end, the
 * gateway's `driver: modbus` lamp box (serialport + modbus-serial) on the
 * other, a simulated counter button, and a real mosquitto as the station with
 * a station client recording every alert and retained device state.
 */
import mqtt, { type MqttClient } from 'mqtt'
import { Mosquitto } from './mosquitto.js'
import { PtyPair } from './pty-pair.js'
import { LampBoxSlave } from './lamp-box-slave.js'
import { testGateway, until } from './test-gateway.js'
import type { Gateway } from '../../gateway/gateway.js'

export const ROOT = 'safehouse/v1/test-city/kiosk-001'

export interface StationAlert { id: string; device: string; kind: string; value: number | null; hw_time: number; sent_time: number; test: boolean; at: number }

export interface LampPost {
  gw: Gateway
  slave: LampBoxSlave
  pty: PtyPair
  station: MqttClient
  alerts: StationAlert[]
  deviceStates: Map<string, Record<string, unknown>>
  /** Alerts of one kind (and device) seen at the station. */
  of(kind: string, device?: string): StationAlert[]
  ack(id: string): Promise<void>
}

export async function lampPost(
  t: { teardown(fn: () => unknown): void },
  lamp: Record<string, unknown> = {},
  seed = 1,
): Promise<LampPost> {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const pty = await new PtyPair('lamp-post').open()
  t.teardown(() => pty.close())
  const slave = new LampBoxSlave(pty.b, undefined, seed)
  await slave.open()
  t.teardown(() => slave.close())
  const { gw, cleanup } = await testGateway({
    stationUrl: mosq.url,
    extra: { devices: [
      { id: 'counter-button', kind: 'panic-button', driver: 'sim' },
      { id: 'lamp-box', kind: 'lamp-box', driver: 'modbus', port: pty.a, poll_ms: 200, timeout_ms: 150, unit_id: 1, profile: 'safehouse', supervision_s: 2, confirm_polls: 2, ...lamp },
    ] },
  })
  t.teardown(cleanup)
  const station = await mqtt.connectAsync(mosq.url, { clientId: `station-lamp-post-${seed}`, protocolVersion: 5 })
  t.teardown(() => station.endAsync())
  const alerts: StationAlert[] = []
  const deviceStates = new Map<string, Record<string, unknown>>()
  station.on('message', (topic, p) => {
    if (topic.includes('/alert/')) alerts.push({ ...JSON.parse(p.toString()), at: Date.now() })
    else if (topic.includes('/device/')) {
      const body = JSON.parse(p.toString())
      deviceStates.set(body.device, body)
    }
  })
  await station.subscribeAsync([`${ROOT}/alert/+`, `${ROOT}/device/+/state`], { qos: 1 })
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink')
  const lampIdx = gw.devices.entries.find((e) => e.id === 'lamp-box')!.index
  await until(() => gw.state.status[lampIdx] === 'online', 'the lamp box online')
  return {
    gw, slave, pty, station, alerts, deviceStates,
    of: (kind, device) => alerts.filter((a) => a.kind === kind && (device === undefined || a.device === device)),
    ack: async (id) => { await station.publishAsync(`${ROOT}/ack`, JSON.stringify({ id, by: 'operator-7' }), { qos: 1 }) },
  }
}
