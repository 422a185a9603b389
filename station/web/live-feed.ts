/**
 * The live feed to browsers over Server-Sent Events (issue 15). One HTTP
 * response per browser; each StationLive event goes out with its `seq` as the
 * SSE id, so a browser that drops its connection reconnects with
 * Last-Event-ID (or ?last= after a manual reconnect) and gets what it missed
 * from StationLive.since(); when that is null (too far behind, or another
 * instance's numbering) the browser is told to reload its views from the store.
 *
 * Health (database, station broker) is polled once a second and pushed on
 * change, so the loud banners appear within a second.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { LiveEvent, StationHealth, StationLive } from '../station-api.js'
import { SECURITY_HEADERS } from './http-util.js'

/** A browser that cannot keep up is cut off; it reconnects and catches up from since(). */
const MAX_BUFFERED_BYTES = 2 * 1024 * 1024
const KEEPALIVE_MS = 15_000
const ALARM_EVENTS: ReadonlySet<LiveEvent['type']> = new Set(['alert', 'ack', 'rollcall'])

interface Client {
  res: ServerResponse
  /** Maintainers see fleet health only: alert, ack and roll-call events are not sent to them. */
  alarms: boolean
  /** Re-checked on each keepalive: a logged-out or expired session ends the stream. */
  stillValid: () => Promise<boolean>
}

export interface HealthSnapshot {
  db: boolean
  broker: boolean
}

export class LiveFeed {
  private readonly clients = new Set<Client>()
  private unsubscribe: (() => void) | null = null
  private timers: NodeJS.Timeout[] = []
  private health: HealthSnapshot

  constructor(private readonly live: StationLive, private readonly stationHealth: StationHealth, private readonly log: Logger) {
    this.health = this.readHealth()
  }

  start(): void {
    this.unsubscribe = this.live.subscribe((seq, e) => this.broadcast(seq, e))
    this.timers.push(setInterval(() => this.pollHealth(), 1000))
    this.timers.push(setInterval(() => void this.keepalive(), KEEPALIVE_MS))
  }

  stop(): void {
    this.unsubscribe?.()
    for (const t of this.timers) clearInterval(t)
    this.timers = []
    for (const c of this.clients) c.res.end()
    this.clients.clear()
  }

  get size(): number {
    return this.clients.size
  }

  currentHealth(): HealthSnapshot {
    return this.health
  }

  open(req: IncomingMessage, res: ServerResponse, alarms: boolean, stillValid: () => Promise<boolean>, lastParam: string | null): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    res.socket?.setNoDelay(true)
    const client: Client = { res, alarms, stillValid }
    // Subscribed (through the one live subscription) before anything is read,
    // so no event can fall between the catch-up and the stream.
    this.clients.add(client)
    req.on('close', () => this.clients.delete(client))
    res.write('retry: 1000\n\n')
    const lastRaw = (req.headers['last-event-id'] as string | undefined) ?? lastParam
    const last = lastRaw !== null && lastRaw !== undefined && /^\d+$/.test(lastRaw) ? Number(lastRaw) : null
    this.send(client, `event: health\ndata: ${JSON.stringify(this.health)}\n\n`)
    if (last === null) {
      // A fresh page: it loads its views from the store after this hello.
      this.send(client, `event: hello\ndata: ${JSON.stringify({ lastSeq: this.live.lastSeq })}\n\n`)
      return
    }
    const missed = last > this.live.lastSeq ? null : this.live.since(last)
    if (missed === null) {
      this.send(client, `event: reload\ndata: ${JSON.stringify({ lastSeq: this.live.lastSeq })}\n\n`)
      return
    }
    for (const m of missed) if (alarms || !ALARM_EVENTS.has(m.e.type)) this.send(client, frame(m.seq, m.e))
    this.send(client, `event: caughtup\ndata: ${JSON.stringify({ count: missed.length, lastSeq: this.live.lastSeq })}\n\n`)
  }

  private broadcast(seq: number, e: LiveEvent): void {
    if (this.clients.size === 0) return
    const text = frame(seq, e)
    const alarmEvent = ALARM_EVENTS.has(e.type)
    for (const c of this.clients) if (c.alarms || !alarmEvent) this.send(c, text)
  }

  private send(c: Client, text: string): void {
    if (c.res.writableEnded) return
    if (c.res.writableLength > MAX_BUFFERED_BYTES) {
      this.log.warn({ buffered: c.res.writableLength }, 'live client too slow, disconnected')
      this.clients.delete(c)
      c.res.destroy()
      return
    }
    c.res.write(text)
  }

  private readHealth(): HealthSnapshot {
    let db = false
    let broker = false
    try { db = this.stationHealth.dbOk() } catch { db = false }
    try { broker = this.stationHealth.brokerConnected() } catch { broker = false }
    return { db, broker }
  }

  private pollHealth(): void {
    const h = this.readHealth()
    if (h.db === this.health.db && h.broker === this.health.broker) return
    this.health = h
    const text = `event: health\ndata: ${JSON.stringify(h)}\n\n`
    for (const c of this.clients) this.send(c, text)
  }

  private async keepalive(): Promise<void> {
    for (const c of [...this.clients]) {
      let ok = false
      try { ok = await c.stillValid() } catch { ok = true } // a store hiccup is not a logout
      if (!ok) {
        this.send(c, 'event: logout\ndata: {}\n\n')
        this.clients.delete(c)
        c.res.end()
      } else {
        this.send(c, ': keepalive\n\n')
      }
    }
  }
}

function frame(seq: number, e: LiveEvent): string {
  return `id: ${seq}\ndata: ${JSON.stringify(e)}\n\n`
}
