/**
 * Commands to a post over the station broker, MQTT 5 request/response
 * (docs/protocol.md §Commands): the request on `…/<post>/cmd/<name>` with the
 * Response Topic and Correlation Data properties; the gateway replies on that
 * topic with the same correlation data. Reply topic per post and client id:
 * `…/<post>/cmd-reply/<client id>`, as a local client's must be.
 */
import { randomBytes } from 'node:crypto'
import { PostTopics } from '../../protocols/mqtt/topics.js'
import type { StationBroker } from '../ingest/station-broker.js'

export type CommandResult = { ok: true; result: unknown } | { ok: false; error: string }

export class CommandClient {
  private readonly pending = new Map<string, { resolve: (r: CommandResult) => void; timer: NodeJS.Timeout }>()

  constructor(private readonly broker: StationBroker, private readonly timeoutMs = 10_000) {}

  /** The filter for our replies (subscribed with ingest's filters). */
  replyFilter(): string {
    return `safehouse/v1/+/+/cmd-reply/${this.broker.clientId}`
  }

  isReply(topic: string): boolean {
    return topic.includes('/cmd-reply/') && topic.endsWith(`/cmd-reply/${this.broker.clientId}`)
  }

  handleReply(payload: Buffer, correlationData: Buffer | undefined): void {
    let body: { ok?: unknown; result?: unknown; error?: unknown; correlation_id?: unknown }
    try {
      body = JSON.parse(payload.toString('utf8'))
    } catch {
      return
    }
    const id = correlationData?.toString('utf8') ?? (typeof body.correlation_id === 'string' ? body.correlation_id : null)
    const p = id ? this.pending.get(id) : undefined
    if (!p || !id) return // late reply to a request that timed out
    this.pending.delete(id)
    clearTimeout(p.timer)
    p.resolve(body.ok === true ? { ok: true, result: body.result ?? null } : { ok: false, error: typeof body.error === 'string' ? body.error : 'the gateway refused the command without saying why' })
  }

  send(site: string, post: string, name: string, by: string, args: Record<string, unknown>): Promise<CommandResult> {
    let topics: PostTopics
    try {
      topics = new PostTopics(site, post)
    } catch (e) {
      return Promise.resolve({ ok: false, error: (e as Error).message })
    }
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name)) return Promise.resolve({ ok: false, error: `"${name}" is not a command name` })
    const id = randomBytes(8).toString('hex')
    const replyTopic = topics.cmdReply(this.broker.clientId)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        resolve({ ok: false, error: `post ${site}/${post} did not answer "${name}" within ${Math.round(this.timeoutMs / 1000)} s: is it online?` })
      }, this.timeoutMs)
      this.pending.set(id, { resolve, timer })
      // MQTT 3.1.1 (a broker without 5): response_topic and correlation_id travel in the payload.
      const v5 = this.broker.protocolVersion === 5
      const body = v5 ? { by, args } : { by, args, response_topic: replyTopic, correlation_id: id }
      this.broker.publish(topics.cmd(name), JSON.stringify(body), v5 ? { qos: 1, properties: { responseTopic: replyTopic, correlationData: Buffer.from(id) } } : { qos: 1 })
        .catch((e: Error) => {
          clearTimeout(timer)
          this.pending.delete(id)
          resolve({ ok: false, error: `could not send "${name}": ${e.message}` })
        })
    })
  }

  close(): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer)
      p.resolve({ ok: false, error: 'the station service is stopping' })
    }
    this.pending.clear()
  }
}
