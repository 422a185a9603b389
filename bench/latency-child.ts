/**
 * One publisher of bench/latency-separate.ts in its own process, as in
 * production (issue 13 §1): either the gateway (`station`: twin input ->
 * core -> outbox -> uplink -> mosquitto) or the reference (`reference`: a
 * plain mqtt.js client publishing the gateway's recorded payload bytes).
 * The bench process holds the subscribers and says when to send; this
 * process stamps each send with CLOCK_MONOTONIC (process.hrtime, the same
 * clock in every process of the machine) and reports it over IPC.
 *
 *   forked by bench/latency-separate.ts: latency-child.ts station|reference <mosquitto url>
 */
import mqtt, { type MqttClient } from 'mqtt'
import { startAlertGateway } from './latency-gateway.js'
import { noDelay } from '../gateway/reconnect.js'

export type ToChild = { type: 'go'; record: boolean } | { type: 'payloads'; topic: string; payloads: string[] } | { type: 'stop' }
export type FromChild = { type: 'ready'; alertTopic: string } | { type: 'sent'; id: string; t0: number; payload?: string; cpuUs?: number }

const [role, url] = process.argv.slice(2)
const hrMs = (): number => Number(process.hrtime.bigint()) / 1e6
const send = (m: FromChild): void => { process.send?.(m) }
/** This process's CPU time (user + system, µs) just before a send: the bench divides the difference by the alerts between. */
const cpuUs = (): number => { const u = process.cpuUsage(); return u.user + u.system }

async function station(): Promise<void> {
  const { gw, cleanup, inject } = await startAlertGateway(url)
  process.on('message', (m: ToChild) => {
    if (m.type === 'go') {
      const cpu = cpuUs()
      const t0 = hrMs()
      const { id, payload } = inject()
      send({ type: 'sent', id, t0, payload: m.record ? payload.toString() : undefined, cpuUs: cpu })
    } else if (m.type === 'stop') void cleanup().then(() => process.exit(0))
  })
  send({ type: 'ready', alertTopic: gw.topics.alert('counter-button') })
}

async function reference(): Promise<void> {
  let pub: MqttClient | null = null
  let topic = ''
  let payloads: Buffer[] = []
  let ids: string[] = []
  let next = 0
  process.on('message', (m: ToChild) => {
    if (m.type === 'payloads') {
      topic = m.topic
      payloads = m.payloads.map((p) => Buffer.from(p))
      ids = m.payloads.map((p) => (JSON.parse(p) as { id: string }).id)
      // MQTT 5 and no Nagle, like the gateway's uplink (issue 13 §1).
      void mqtt.connectAsync(url, { clientId: 'bench-reference-pub', protocolVersion: 5, reconnectPeriod: 0 }).then((c) => {
        pub = noDelay(c)
        send({ type: 'ready', alertTopic: topic })
      })
    } else if (m.type === 'go') {
      const i = next++ % payloads.length
      const cpu = cpuUs()
      const t0 = hrMs()
      pub?.publish(topic, payloads[i], { qos: 1 })
      send({ type: 'sent', id: ids[i], t0, cpuUs: cpu })
    } else if (m.type === 'stop') void (pub as MqttClient | null)?.endAsync(true).then(() => process.exit(0))
  })
}

;(role === 'station' ? station() : reference()).catch((e: unknown) => {
  process.stderr.write(`latency child (${role}) failed: ${(e as Error).stack ?? String(e)}\n`)
  process.exit(1)
})
