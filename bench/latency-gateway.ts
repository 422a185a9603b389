/**
 * The gateway both latency benches drive (bench/latency.ts in one process,
 * bench/latency-child.ts in its own): a test gateway with a memory outbox
 * whose uplink goes to `stationUrl`, started and connected, and one call
 * that injects a panic alert into the core as a twin or driver does.
 */
import { testGateway, until, USERS } from '../test/harness/test-gateway.js'
import { EventClass, Kind } from '../protocols/event-kinds.js'
import type { CoreEvent } from '../gateway/core/event-core.js'
import type { Gateway } from '../gateway/gateway.js'

export interface AlertGateway {
  gw: Gateway
  cleanup: () => Promise<void>
  /** Inject one alert; returns its id and the payload bytes the gateway published. */
  inject: () => { id: string; payload: Buffer }
}

export async function startAlertGateway(stationUrl: string, maxClients?: number): Promise<AlertGateway> {
  const users = Object.values(USERS).map(({ username, role }) => ({ username, role }))
  const { gw, cleanup } = await testGateway({
    stationUrl,
    outbox: 'memory',
    extra: { broker: { port: 0, ...(maxClients ? { max_clients: maxClients } : {}), users } },
  })
  // A last sink sees each alert after the local broker and the outbox got it: its seq names the alert.
  let lastSeq = -1
  let lastPayload: Buffer | null = null
  gw.core.addSink({
    name: 'bench',
    onEvent(ev: CoreEvent) {
      if (ev.cls !== EventClass.ALERT) return
      lastSeq = ev.seq
      lastPayload = ev.retainPayload()
    },
  })
  await gw.start()
  await until(() => gw.uplink.connected, 'the uplink to connect to mosquitto')
  const device = gw.devices.indexOf('counter-button')
  let key = 0
  return {
    gw,
    cleanup,
    inject() {
      // A fresh packet key each time: keyed dedupe never matches.
      gw.core.input(device, Kind.PANIC, 1, Date.now(), NaN, key++)
      const id = gw.encoder.id(lastSeq)
      gw.outbox.ack(id) // keep the memory outbox flat, as the station's acks would
      return { id, payload: lastPayload as Buffer }
    },
  }
}
