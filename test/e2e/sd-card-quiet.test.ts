/**
 * Issue 6 §1 "easy on SD cards: nothing written for heartbeats": a gateway with
 * the durable file outbox, a station on mosquitto, and a quiet post — thousands
 * of heartbeats and battery readings, retained state published — writes
 * nothing to its data directory. One alert then does write (the control).
 */
import t from 'tap'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Mosquitto } from '../harness/mosquitto.js'
import { testGateway, until } from '../harness/test-gateway.js'
import { Kind } from '../../protocols/event-kinds.js'

/** Every file under dir with its size and modification time. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue
    const p = join(e.parentPath, e.name)
    const st = statSync(p)
    out[p] = `${st.size}@${st.mtimeMs}`
  }
  return out
}

t.test('heartbeats and state are never written to disk; an alert is', async (t) => {
  const mosq = await new Mosquitto().start()
  t.teardown(() => mosq.close())
  const { gw, dir, cleanup } = await testGateway({ stationUrl: mosq.url, outbox: 'file', extra: { core: { state_interval_s: 1 } } })
  t.teardown(cleanup)
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink')
  const data = join(dir, 'data')
  await new Promise((r) => setTimeout(r, 300)) // let start-up writes settle
  const before = snapshot(data)
  t.ok(Object.keys(before).length > 0, 'the data dir holds the outbox and sequence files')

  const whistle = gw.devices.indexOf('whistle-07')
  const start = Date.now()
  for (let i = 0; i < 20; i++) {
    for (let k = 0; k < 100; k++) {
      gw.core.input(whistle, Kind.HEARTBEAT, 0, start + i * 100 + k, -60, -1)
      gw.core.input(whistle, Kind.BATTERY, 90, start + i * 100 + k, -60, -1)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  await new Promise((r) => setTimeout(r, 1200)) // a periodic state publish falls in the window
  t.same(snapshot(data), before, '4,000 heartbeats and battery readings, state published: no file written')
  t.equal(gw.outbox.stats().appended, 0, 'nothing entered the outbox')

  gw.twins.get('counter-button')?.act('press')
  await until(() => JSON.stringify(snapshot(data)) !== JSON.stringify(before), 'the alert written to disk (the check can see writes)')
  t.equal(gw.outbox.stats().appended, 1, 'the alert is in the outbox')
})
