/**
 * A direct link to one peer post's embedded broker (issue 6 §5): the path
 * that still works when the station broker is unreachable. We only publish
 * there (the peer's ACL gives our login the neighbour role: publish and read
 * the group's alert topic, nothing else). While the link is down an alert is
 * NOT queued for it: an alarm relayed minutes late would light a lamp for a
 * scene long over; the station path and the station's own outbox carry it.
 */
import { readFileSync } from 'node:fs'
import type { IClientOptions, MqttClient } from 'mqtt'
import { mqttConnect } from '../mqtt-connect.js'
import type { Logger } from 'pino'
import type { Clock } from '../../devices/time/clock.js'
import type { Backoff } from '../../devices/time/backoff.js'
import { noDelay, ReconnectTimer, retireClient } from '../reconnect.js'
import { urlForLog } from '../log-url.js'

export type PeerState = 'connecting' | 'connected' | 'disconnected'

export interface PeerLinkOptions {
  post: string
  url: string
  clientId: string
  username: string | null
  password: string | null
  caFile: string | null
  clock: Clock
  log: Logger
  backoff: Backoff
  connect?: (url: string, opts: IClientOptions) => MqttClient
}

export class PeerLink {
  state: PeerState = 'disconnected'
  private client: MqttClient | null = null
  private readonly reconnect: ReconnectTimer
  private stopped = true

  constructor(private readonly o: PeerLinkOptions) {
    this.reconnect = new ReconnectTimer(o.clock, o.backoff)
  }

  get post(): string {
    return this.o.post
  }

  get connected(): boolean {
    return this.state === 'connected'
  }

  start(): void {
    this.stopped = false
    this.connectNow()
  }

  /** Send now if the link is up; returns false (nothing queued) when it is not. */
  publish(topic: string, payload: Buffer): boolean {
    if (!this.client || this.state !== 'connected') return false
    this.client.publish(topic, payload, { qos: 1, retain: false }, (err) => {
      if (err) this.o.log.warn({ peer: this.o.post, err: err.message }, 'group alert to peer failed')
    })
    return true
  }

  private connectNow(): void {
    const opts: IClientOptions = {
      clientId: this.o.clientId,
      protocolVersion: 4, // aedes, the peers' embedded broker, speaks 3.1.1
      clean: true,
      keepalive: 10,
      reconnectPeriod: 0, // our own jittered backoff, as for the station (devices/time/backoff.ts)
      connectTimeout: 5000,
      queueQoSZero: false,
      username: this.o.username ?? undefined,
      password: this.o.password ?? undefined,
    }
    if (this.o.url.startsWith('mqtts://')) {
      opts.rejectUnauthorized = true
      if (this.o.caFile) opts.ca = readFileSync(this.o.caFile)
    }
    this.state = 'connecting'
    const client = noDelay((this.o.connect ?? mqttConnect)(this.o.url, opts))
    this.client = client
    client.on('connect', () => {
      if (client !== this.client) return
      this.reconnect.backoff.reset()
      this.state = 'connected'
      this.o.log.info({ peer: this.o.post, url: urlForLog(this.o.url) }, 'group peer connected')
    })
    client.on('error', (err: Error & { code?: number | string }) => {
      // A refused login is the technician's to fix; say so once per attempt, plainly.
      const hint = err.code === 4 || err.code === 5 ? 'check group_fanout.username and group_password, and that the peer has this login with role neighbour' : undefined
      this.o.log.warn({ peer: this.o.post, url: urlForLog(this.o.url), err: err.message, hint }, 'group peer connection error')
    })
    client.on('close', () => this.onClose(client))
  }

  private onClose(client: MqttClient): void {
    if (client !== this.client) return
    retireClient(client)
    this.client = null
    const was = this.state
    this.state = 'disconnected'
    if (this.stopped) return
    const delay = this.reconnect.schedule(() => this.connectNow())
    if (was === 'connected') this.o.log.warn({ peer: this.o.post, retry_ms: delay }, 'group peer connection lost')
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.reconnect.cancel()
    const client = this.client
    this.client = null
    this.state = 'disconnected'
    if (client) await new Promise<void>((resolve) => client.end(true, {}, () => resolve()))
  }
}
