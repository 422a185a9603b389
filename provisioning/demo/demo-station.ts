/**
 * The demo's station service (issue 15): the real StationService on a SQLite
 * file in the demo's temp dir, reading the demo's station broker, with its
 * web console on localhost, its /metrics on a free loopback port and a demo
 * operator with a random password.
 */
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { StationService } from '../../station/station-service.js'
import type { DemoSetup } from './demo-setup.js'

export interface DemoStation {
  url: string
  login: { name: string; password: string }
  service: StationService
  stop(): Promise<void>
}

export async function startDemoStation(setup: DemoSetup, port: number): Promise<DemoStation> {
  const make = (p: number) => new StationService({
    storeUrl: `sqlite:${join(setup.dir, 'station', 'station.db')}`,
    broker: { url: `mqtt://127.0.0.1:${setup.station.port}`, username: 'station-service', password: setup.station.users['station-service'], caFile: null, clientId: 'demo-station', sites: [] },
    web: { host: '127.0.0.1', port: p },
    metrics: { host: '127.0.0.1', port: 0 }, // any free port, like the gateway's in the demo
    timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'Asia/Shanghai',
    scryptN: 4096,
  })
  let service = make(port)
  try {
    await service.start()
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw e
    await service.stop()
    service = make(0) // 8080 taken: any free port
    await service.start()
  }
  const login = { name: 'demo', password: randomBytes(6).toString('base64url') }
  await service.store.addOperator(login.name, 'supervisor', login.password, null)
  return { url: `http://127.0.0.1:${service.webPort}/`, login, service, stop: () => service.stop() }
}
