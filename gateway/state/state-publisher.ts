/**
 * Publishes retained state (latest value, never queued): each device whose
 * state changed, at most once per second; the gateway state when it changed;
 * everything every `core.state_interval_s` so a maintainer who subscribes late
 * or a broker that lost its retained store is caught up.
 */
import type { TimerHandle } from '../../devices/time/clock.js'
import type { GatewayParts } from '../gateway-parts.js'

/** What the publisher uses of the gateway (issue 18: a narrow view, not the class). */
type PublisherHost = Pick<GatewayParts, 'clock' | 'config' | 'devices' | 'gatewayState' | 'state' | 'topics'>

const FLUSH_MS = 1000

export class StatePublisher {
  private timer: TimerHandle | null = null
  private soon: TimerHandle | null = null
  private lastFull = 0
  private running = false

  constructor(private readonly gw: PublisherHost, private readonly publish: (topic: string, payload: Buffer) => void) {}

  start(): void {
    this.running = true
    this.lastFull = this.gw.clock.monotonic()
    this.flush(true)
    this.schedule()
  }

  stop(): void {
    this.running = false
    if (this.timer) this.gw.clock.clearTimeout(this.timer)
    if (this.soon) this.gw.clock.clearTimeout(this.soon)
    this.timer = this.soon = null
  }

  /** Publish pending changes right away (e.g. after an ack), without waiting for the next second. */
  flushSoon(): void {
    if (!this.running || this.soon) return
    this.soon = this.gw.clock.setTimeout(() => {
      this.soon = null
      this.flush(false)
    }, 0)
  }

  private schedule(): void {
    this.timer = this.gw.clock.setTimeout(() => {
      const now = this.gw.clock.monotonic()
      const full = now - this.lastFull >= this.gw.config.core.state_interval_s * 1000
      if (full) this.lastFull = now
      this.flush(full)
      if (this.running) this.schedule()
    }, FLUSH_MS)
  }

  flush(all: boolean): void {
    const { state, devices, topics } = this.gw
    for (let d = 1; d < devices.size; d++) {
      if (!all && !state.dirty[d]) continue
      state.dirty[d] = 0
      this.publish(topics.deviceState(devices.get(d).id), Buffer.from(JSON.stringify(state.deviceState(d))))
    }
    if (all || state.gatewayDirty) {
      state.gatewayDirty = false
      this.publish(topics.state, Buffer.from(JSON.stringify(this.gw.gatewayState())))
    }
  }
}
