/**
 * What the broker-cluster harnesses (nats-cluster.ts, rabbitmq-cluster.ts) share: the nodes' MQTT
 * URLs in the forms the tests need, a TCP probe, and the start that is retried on fresh ports when
 * another test took a port between freePort() and the node's bind (seen in CI: "address already in
 * use"), stopping every node a failed start spawned so no child keeps the test process alive.
 */
import { connect } from 'node:net'

export abstract class LoopbackCluster<N extends { mqtt: number; proc: { pid?: number } | null }> {
  readonly nodes: N[] = []

  /** Spawn node i with its config (it is not running). */
  protected abstract spawnNode(i: number): void
  /** Wait until every running node serves (and the cluster is healthy), at most `ms`. */
  abstract ready(ms: number): Promise<void>
  /** Stop node i (SIGTERM, then SIGKILL); resolves when it has exited. */
  abstract stop(i: number): Promise<void>

  /** Every node down (a whole-station outage). */
  async stopAll(): Promise<void> {
    await Promise.all(this.nodes.map((_, i) => this.stop(i)))
  }

  /** How long a node may take to come back (default of startAll). */
  protected abstract readonly restartMs: number

  /** Every stopped node back at once (one alone has no quorum), then wait until they serve. */
  async startAll(ms = this.restartMs): Promise<void> {
    this.nodes.forEach((x, i) => { if (!x.proc) this.spawnNode(i) })
    await this.ready(ms)
  }

  /** pid of node i (null when down). */
  pid(i: number): number | null {
    return this.nodes[i].proc?.pid ?? null
  }

  /** The MQTT URL of node i (0-based). */
  mqttUrl(i = 0): string {
    return `mqtt://127.0.0.1:${this.nodes[i].mqtt}`
  }

  get mqttUrls(): string[] {
    return this.nodes.map((_, i) => this.mqttUrl(i))
  }

  /** mqtt.js `servers`: reconnection goes round the nodes. */
  get servers(): Array<{ host: string; port: number }> {
    return this.nodes.map((n) => ({ host: '127.0.0.1', port: n.mqtt }))
  }

  /**
   * Runs `attempt` (pick ports, spawn, wait until ready) up to three times: again only when a node's
   * log says its port was taken (`portTaken`); after any failed attempt `stopAll` runs first.
   */
  protected async startOnFreePorts(attempt: () => Promise<void>, portTaken: () => boolean, stopAll: () => Promise<void>): Promise<void> {
    for (let n = 1; ; n++) {
      this.nodes.length = 0
      try {
        return await attempt()
      } catch (e) {
        const taken = portTaken()
        await stopAll()
        if (!taken || n >= 3) throw e
      }
    }
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}
