/**
 * The real station service for tests: a real mosquitto as the station broker
 * (test/harness/mosquitto.ts), the service on a SQLite file in a temp dir (or
 * a given store URL), the console on a free loopback port, one operator.
 * Used by the station's own tests and the console's browser tests.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import { Mosquitto } from './mosquitto.js'
import { StationService, type StationServiceOptions } from '../../station/station-service.js'
import type { ActionContext, Role } from '../../station/station-api.js'

export interface TestStation {
  service: StationService
  /** The mosquitto it runs on (throws when it runs on another broker: use brokerUrl). */
  mosq: Mosquitto
  /** The broker URL the service and publisher() use. */
  brokerUrl: string
  /** http://127.0.0.1:<port> of the console (when web is on). */
  consoleUrl: string
  operator: { name: string; password: string; role: Role }
  ctx: ActionContext
  /** A plain MQTT client on the station broker, to publish what a gateway (or a liar) would. */
  publisher(): Promise<MqttClient>
  cleanup(): Promise<void>
}

/** broker: another station broker than mosquitto (a NATS cluster: its node URLs, the first one used first). */
export async function testStation(o: { web?: boolean; storeUrl?: string; mosq?: Mosquitto; broker?: { urls: string[]; protocolVersion?: 4 | 5 }; over?: Partial<StationServiceOptions> } = {}): Promise<TestStation> {
  const dir = mkdtempSync(join(tmpdir(), 'safehouse-station-'))
  const mosq = o.broker ? null : o.mosq ?? (await new Mosquitto().start())
  const brokerUrl = o.broker ? o.broker.urls[0] : (mosq as Mosquitto).url
  const service = new StationService({
    storeUrl: o.storeUrl ?? `sqlite:${join(dir, 'station.db')}`,
    broker: { url: brokerUrl, failoverUrls: o.broker?.urls.slice(1), username: null, password: null, caFile: null, clientId: `st${Math.random().toString(36).slice(2, 10)}`, sites: [] },
    web: o.web === false ? null : { host: '127.0.0.1', port: 0 },
    timeZone: 'Asia/Shanghai',
    scryptN: 1024,
    dbRetryMs: 200,
    unknownPostGraceMs: 500,
    commandTimeoutMs: 5000,
    ...o.over,
  })
  await service.start()
  const operator = { name: 'operator-7', password: 'op-password-7', role: 'supervisor' as Role }
  await service.store.addOperator(operator.name, operator.role, operator.password, 'en')
  const clients: MqttClient[] = []
  return {
    service,
    get mosq(): Mosquitto {
      if (!mosq) throw new Error('this test station runs on another broker than mosquitto: use brokerUrl')
      return mosq
    },
    brokerUrl,
    consoleUrl: `http://127.0.0.1:${service.webPort}`,
    operator,
    ctx: { operator: { name: operator.name, role: operator.role, lang: 'en' }, from: '127.0.0.1' },
    publisher: async () => {
      const c = await mqtt.connectAsync(brokerUrl, { clientId: `pub${Math.random().toString(36).slice(2, 10)}`, protocolVersion: o.broker?.protocolVersion ?? 5 })
      clients.push(c)
      return c
    },
    cleanup: async () => {
      for (const c of clients) await c.endAsync().catch(() => {})
      await service.stop()
      if (!o.mosq && mosq) await mosq.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
