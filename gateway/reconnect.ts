/**
 * Reconnecting an mqtt.js client ourselves (the station uplink, group peer
 * links): mqtt.js's own reconnect runs at a fixed period, which makes a whole
 * city's posts hammer a restarted broker in lockstep; we wait a jittered
 * backoff instead (devices/time/backoff.ts) and start a fresh client each time.
 */
import type { MqttClient } from 'mqtt'
import type { Clock, TimerHandle } from '../devices/time/clock.js'
import type { Backoff } from '../devices/time/backoff.js'

/** Drop a closed client for good: no more events reach us, a late error cannot crash the process. */
export function retireClient(client: MqttClient): void {
  client.removeAllListeners()
  client.on('error', () => {})
  client.end(true)
}

/**
 * Write without Nagle's delay (issue 13 §1). mqtt.js opens its socket with
 * Node's default (Nagle on); a small PUBLISH written while an earlier segment
 * is unacknowledged then waits for the peer's delayed ACK (~40 ms on Linux),
 * which put the station path's p99 at ~43 ms. mqtt.js builds the stream
 * synchronously inside connect(), so setting it here, before the socket has
 * connected, covers the CONNECT packet too (Node applies it on connect); a
 * TLS socket forwards setNoDelay to its TCP handle. Injected test clients may
 * have no stream: then nothing happens.
 */
export function noDelay(client: MqttClient): MqttClient {
  const stream = (client as { stream?: { setNoDelay?: (on: boolean) => unknown } }).stream
  stream?.setNoDelay?.(true)
  return client
}

export class ReconnectTimer {
  private retry: TimerHandle | null = null

  constructor(private readonly clock: Clock, readonly backoff: Backoff) {}

  /** Run `connect` after the next backoff delay (or `delayMs`); returns the delay (ms) for the log. */
  schedule(connect: () => void, delayMs?: number): number {
    this.cancel()
    const delay = delayMs ?? this.backoff.next()
    this.retry = this.clock.setTimeout(() => {
      this.retry = null
      connect()
    }, delay)
    return delay
  }

  cancel(): void {
    if (this.retry) this.clock.clearTimeout(this.retry)
    this.retry = null
  }
}
