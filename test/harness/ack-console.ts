/**
 * A station console for the uplink tests (issue 16 §1): subscribed on one or
 * more station brokers, it records every alert and test report it receives
 * (which broker, when) and acknowledges each alert on the broker it came
 * from, as a station that stored it would. A repeat must carry the same
 * bytes under the same id: `mismatched` counts the ones that do not.
 */
import mqtt, { type MqttClient } from 'mqtt'

const ROOT = 'safehouse/v1/test-city/kiosk-001'

export interface SeenAlert { id: string; kind: string; value: number; path?: string; via: string; at: number }
export interface SeenReport { path?: string; via: string; at: number }

export class AckConsole {
  readonly alerts: SeenAlert[] = []
  readonly reports: SeenReport[] = []
  /** Every message on …/path/+/status, latest last. */
  readonly pathStatus: { path: string; state: string; at: number }[] = []
  private readonly first = new Map<string, string>()
  mismatched = 0
  private readonly clients: MqttClient[] = []

  constructor(private readonly opts: { ack?: boolean } = {}) {}

  /** Listen (and ack) on the broker at `url`; `via` names it in the records. */
  async attach(url: string, via: string): Promise<void> {
    const c = await mqtt.connectAsync(url, { clientId: `console-${via}-${Math.random().toString(36).slice(2, 8)}`, reconnectPeriod: 200, protocolVersion: 4 })
    this.clients.push(c)
    c.on('message', (topic, p) => {
      const at = Date.now()
      if (topic.endsWith('/test-report')) {
        const r = JSON.parse(p.toString()) as { path?: string }
        this.reports.push({ path: r.path, via, at })
        return
      }
      if (topic.includes('/path/')) {
        if (!p.length) return
        const s = JSON.parse(p.toString()) as { path: string; state: string }
        this.pathStatus.push({ path: s.path, state: s.state, at })
        return
      }
      const text = p.toString()
      const a = JSON.parse(text) as { id: string; kind: string; value: number; path?: string }
      const before = this.first.get(a.id)
      if (before === undefined) this.first.set(a.id, text)
      else if (before !== text) this.mismatched++
      this.alerts.push({ id: a.id, kind: a.kind, value: a.value, path: a.path, via, at })
      if (this.opts.ack !== false) c.publish(`${ROOT}/ack`, JSON.stringify({ id: a.id, by: `console-${via}` }), { qos: 1 })
    })
    await c.subscribeAsync([`${ROOT}/alert/+`, `${ROOT}/test-report`, `${ROOT}/path/+/status`], { qos: 1 })
  }

  /** Distinct alert ids seen, in order of first arrival. */
  ids(kind?: string): string[] {
    return [...new Set(this.alerts.filter((a) => kind === undefined || a.kind === kind).map((a) => a.id))]
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.endAsync(true).catch(() => {})))
  }
}
