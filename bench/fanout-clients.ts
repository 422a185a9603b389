/**
 * The clients for bench/fanout.ts, in their own process (not the broker's):
 * SUBS mqtt.js subscribers and one publisher, all without Nagle.
 *
 *   node --import tsx bench/fanout-clients.ts PORT SUBS MESSAGES RATE_PER_S QOS
 *
 * Connects and subscribes everyone, publishes a warm-up of MESSAGES/5, then
 * prints "ready" and waits for "go" on stdin (the parent reads the broker's
 * CPU between the two). Then publishes MESSAGES at RATE_PER_S, each payload
 * carrying its send time (process.hrtime, this process's own clock, so send
 * and arrival are read on one clock), and prints one JSON line when every
 * delivery arrived (or 30 s after the last publish): deliveries and latency
 * percentiles in ms.
 */
import { createInterface } from 'node:readline'
import type { Socket } from 'node:net'
import mqtt, { type MqttClient } from 'mqtt'
import { summarize } from './bench-stats.js'
import { FANOUT_FILTER, FANOUT_PUBLISHER, FANOUT_SUBSCRIBERS, FANOUT_TOPIC } from './fanout-shared.js'

const [port, subs, messages, rate, qos] = process.argv.slice(2, 7).map(Number) as [number, number, number, number, 0 | 1]
const PAYLOAD_BYTES = 256 // about one alert's JSON
const warmup = Math.max(50, Math.floor(messages / 5))

function connect(clientId: string, username: string, password: string): Promise<MqttClient> {
  const c = mqtt.connect({ host: '127.0.0.1', port, clientId, username, password, clean: true, reconnectPeriod: 0, connectTimeout: 60_000, keepalive: 300 })
  c.on('connect', () => { (c.stream as Socket).setNoDelay?.(true) })
  return new Promise((res, rej) => {
    c.once('connect', () => res(c))
    c.once('error', rej)
  })
}

let latencies = new Float64Array(subs * messages)
let received = 0
let expected = 0
let onAllReceived: (() => void) | null = null
const clients: MqttClient[] = []
for (let i = 0; i < subs; i++) {
  const u = FANOUT_SUBSCRIBERS[i % FANOUT_SUBSCRIBERS.length]
  const c = await connect(`sub-${i}`, u.username, u.password)
  const granted = await c.subscribeAsync(FANOUT_FILTER, { qos })
  if (granted[0]?.qos === 128) throw new Error(`subscription refused for ${u.username}`)
  c.on('message', (_t, payload) => {
    const sentNs = payload.readBigUInt64BE(0)
    if (received < latencies.length) latencies[received] = Number(process.hrtime.bigint() - sentNs) / 1e6
    if (++received === expected) onAllReceived?.()
  })
  clients.push(c)
}
const pub = await connect('fanout-publisher', FANOUT_PUBLISHER.username, FANOUT_PUBLISHER.password)
const payload = Buffer.alloc(PAYLOAD_BYTES, 0x61)

async function burst(n: number): Promise<{ sentMs: number; timedOut: boolean }> {
  received = 0
  expected = subs * n
  const all = new Promise<boolean>((res) => { onAllReceived = () => res(false) })
  const t0 = performance.now()
  const gapMs = 1000 / rate
  for (let i = 0; i < n; i++) {
    // Paced against the start, so a late timer does not slow the whole run.
    const due = t0 + i * gapMs
    const wait = due - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    payload.writeBigUInt64BE(process.hrtime.bigint(), 0)
    pub.publish(FANOUT_TOPIC, Buffer.from(payload), { qos })
  }
  const sentMs = performance.now() - t0
  const timedOut = await Promise.race([all, new Promise<boolean>((r) => setTimeout(() => r(true), 30_000))])
  onAllReceived = null
  return { sentMs, timedOut }
}

await burst(warmup)
latencies = new Float64Array(subs * messages)
process.stdout.write('ready\n')
const lines = createInterface({ input: process.stdin })
await new Promise<void>((res) => lines.once('line', () => res()))
const r = await burst(messages)
const s = summarize(latencies, Math.min(received, latencies.length))
process.stdout.write(JSON.stringify({ delivered: received, expected, sentMs: r.sentMs, timedOut: r.timedOut, p50: s.p50, p99: s.p99, p999: s.p999, max: s.max }) + '\n')
await Promise.all([...clients, pub].map((c) => c.endAsync()))
process.exit(0)
