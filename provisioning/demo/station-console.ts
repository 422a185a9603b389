/**
 * The demo's stand-in for a police command room: subscribes to every post's
 * alerts and gateway status on the station broker, prints them, and
 * acknowledges each alert (automatically after a short delay, or when the
 * user presses "a" in manual mode) by publishing to the post's ack topic.
 */
import mqtt, { type MqttClient } from 'mqtt'
import { noDelay } from '../../gateway/reconnect.js'

export interface ReceivedAlert {
  id: string
  post: string
  site: string
  device: string
  label?: string
  location?: string
  kind: string
  hw_time: number
  sent_time: number
  test: boolean
}

export interface StationConsoleOptions {
  url: string
  username: string
  password: string
  operator: string
  autoAckMs: number | null
  print: (line: string) => void
}

const SEEN_IDS = 10_000

export class StationConsole {
  private client: MqttClient | null = null
  /**
   * Ids shown, to show a repeat once: the last SEEN_IDS only (a Set keeps insertion order, so the
   * oldest goes first). It held every alert before; the one-hour soak (bench/memory.ts) found it the
   * largest growth in a demo's heap.
   */
  private readonly seen = new Set<string>()
  private readonly pending: ReceivedAlert[] = []
  onAcked: (a: ReceivedAlert) => void = () => {}

  constructor(private readonly o: StationConsoleOptions) {}

  async start(): Promise<void> {
    const client = mqtt.connect(this.o.url, { username: this.o.username, password: this.o.password, clientId: `station-${this.o.operator}`, reconnectPeriod: 500 })
    this.client = client
    // Acks go back on this socket: no Nagle delay, on every mqtt.js reconnect too (issue 13 §1).
    noDelay(client)
    client.on('connect', () => noDelay(client))
    client.on('message', (topic, payload) => this.onMessage(topic, payload))
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('error', reject)
    })
    await client.subscribeAsync(['safehouse/v1/+/+/alert/+', 'safehouse/v1/+/+/status'], { qos: 1 })
  }

  private onMessage(topic: string, payload: Buffer): void {
    let msg: unknown
    try {
      msg = JSON.parse(payload.toString())
    } catch {
      return this.o.print(`STATION   ? unreadable message on ${topic}`)
    }
    if (topic.endsWith('/status')) {
      const s = msg as { state: string }
      return this.o.print(`STATION   post ${topic.split('/')[3]} is ${s.state.toUpperCase()}`)
    }
    const a = msg as ReceivedAlert
    if (this.seen.has(a.id)) return this.o.print(`STATION   (repeat of ${a.id}, same id: shown once)`)
    this.seen.add(a.id)
    if (this.seen.size > SEEN_IDS) this.seen.delete(this.seen.values().next().value as string)
    const delay = Date.now() - a.hw_time
    this.o.print(`STATION   ◀ ALERT ${a.kind.toUpperCase()}${a.test ? ' (test)' : ''} at post ${a.post}: ${a.label || a.device} (${a.location || 'no location'}) id ${a.id}, ${delay} ms after the hardware saw it`)
    this.pending.push(a)
    if (this.o.autoAckMs !== null) setTimeout(() => this.ackNext(), this.o.autoAckMs)
    else this.o.print(`STATION   press "a" to acknowledge`)
  }

  /** Acknowledge the oldest unacknowledged alert. */
  ackNext(): boolean {
    const a = this.pending.shift()
    if (!a || !this.client) return false
    const topic = `safehouse/v1/${a.site}/${a.post}/ack`
    this.client.publish(topic, JSON.stringify({ id: a.id, by: this.o.operator, at: Date.now() }), { qos: 1 }, () => {
      this.o.print(`STATION   ▶ ACK ${a.id} by ${this.o.operator}`)
      this.onAcked(a)
    })
    return true
  }

  async stop(): Promise<void> {
    await this.client?.endAsync()
  }
}
