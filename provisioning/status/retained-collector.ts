/**
 * Read what a broker holds retained under some filters: subscribe, keep the
 * latest payload per topic, and stop once nothing new arrived for `settleMs`
 * (a broker sends its retained messages right after the SUBACK,
 * [MQTT-3.3.1-6]), or at `waitMs` at the latest. An empty retained payload
 * deletes a topic ([MQTT-3.3.1-10]), so it removes the entry.
 */
import type { MqttClient } from 'mqtt'

export interface CollectOptions {
  settleMs: number
  waitMs: number
}

/** The broker refused or did not answer the subscription. */
export class RetainedReadError extends Error {}

export async function collectRetained(client: MqttClient, filters: string[], o: CollectOptions): Promise<Map<string, Buffer>> {
  const got = new Map<string, Buffer>()
  const started = Date.now()
  let last = started
  const onMessage = (topic: string, payload: Buffer): void => {
    last = Date.now()
    if (payload.length === 0) got.delete(topic)
    else got.set(topic, payload)
  }
  client.on('message', onMessage)
  try {
    const granted = await withTimeout(client.subscribeAsync(filters, { qos: 0 }), o.waitMs, 'the broker did not answer the subscription')
    const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic)
    if (refused.length) throw new RetainedReadError(`the broker refused to let this user read ${refused.join(', ')}: it needs the technician or station role (broker.users in the gateway config; on a station broker, its ACL)`)
    last = Math.max(last, Date.now())
    for (;;) {
      const now = Date.now()
      const quietFor = now - last
      const left = o.waitMs - (now - started)
      if (quietFor >= o.settleMs || left <= 0) break
      await new Promise((r) => setTimeout(r, Math.min(o.settleMs - quietFor, left)))
    }
    return got
  } finally {
    client.off('message', onMessage)
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new RetainedReadError(`${what} within ${ms} ms`)), ms) }),
  ])
}
