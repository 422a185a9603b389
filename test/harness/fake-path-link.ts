/**
 * A PathLink (gateway/uplink/path-link.ts) on injected mqtt clients and a
 * given clock, socket-free: every connect attempt is recorded with its URL,
 * the clock's monotonic time and the fake client, which a test then drives
 * ('connect', 'close', ...). For failover order, pacing and jitter tests.
 */
import { EventEmitter } from 'node:events'
import { pino } from 'pino'
import type { MqttClient } from 'mqtt'
import type { FakeClock } from '../../devices/time/clock.js'
import { PathLink, type PathLinkOptions } from '../../gateway/uplink/path-link.js'

export class FakeClient extends EventEmitter {
  constructor(readonly url: string) { super() }
  end(_force?: boolean, _opts?: object, cb?: () => void): this { cb?.(); return this }
  publish(): this { return this }
}

export interface Attempt { url: string; at: number; client: FakeClient }

export function fakePathLink(o: { endpoints: string[]; station: PathLinkOptions['station']; clock: FakeClock; clientId: string; random?: () => number }): { link: PathLink; attempts: Attempt[] } {
  const attempts: Attempt[] = []
  const link = new PathLink({
    path: { name: 'primary', endpoints: o.endpoints, testReportS: 0 },
    station: o.station,
    clientId: o.clientId,
    password: null,
    will: { topic: 'w', payload: Buffer.from('x') },
    clock: o.clock,
    log: pino({ level: 'silent' }),
    ...(o.random ? { random: o.random } : {}),
    connect: (url) => {
      const client = new FakeClient(url)
      attempts.push({ url, at: o.clock.monotonic(), client })
      return client as unknown as MqttClient
    },
    onConnect: () => {},
    onClose: () => {},
    onMessage: () => {},
  })
  return { link, attempts }
}
