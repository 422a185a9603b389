/**
 * Send a command to the gateway over its embedded broker and wait for the
 * reply (docs/protocol.md §Commands). The embedded broker (aedes) speaks MQTT
 * 3.1.1, so this uses the 3.1.1 form: `response_topic` and `correlation_id` in
 * the request payload, the reply on `<post>/cmd-reply/<our client id>` (the
 * only reply topic the gateway accepts from a local client).
 */
import type { MqttClient } from 'mqtt'
import type { PostTopics } from '../../protocols/mqtt/topics.js'

export type CommandReply = { ok: true; result: Record<string, unknown> } | { ok: false; error: string }

export class CommandTimeout extends Error {}

export class CommandChannel {
  readonly replyTopic: string
  private seq = 0
  private readonly pending = new Map<string, { resolve: (r: CommandReply) => void; timer: NodeJS.Timeout }>()
  private readonly onMessage = (topic: string, payload: Buffer): void => {
    if (topic !== this.replyTopic) return
    let body: { correlation_id?: unknown; ok?: unknown; result?: unknown; error?: unknown }
    try {
      body = JSON.parse(payload.toString('utf8'))
    } catch {
      return
    }
    const p = typeof body.correlation_id === 'string' ? this.pending.get(body.correlation_id) : undefined
    if (!p) return // a late reply to a request that already timed out
    this.pending.delete(body.correlation_id as string)
    clearTimeout(p.timer)
    p.resolve(body.ok === true
      ? { ok: true, result: typeof body.result === 'object' && body.result !== null ? (body.result as Record<string, unknown>) : {} }
      : { ok: false, error: typeof body.error === 'string' ? body.error : 'the gateway refused the command without saying why' })
  }

  constructor(private readonly client: MqttClient, private readonly topics: PostTopics, clientId: string, private readonly by: string) {
    this.replyTopic = topics.cmdReply(clientId)
    client.on('message', this.onMessage)
  }

  /** Subscribe to our reply topic; throws when the broker refuses it (wrong role). */
  async open(): Promise<void> {
    const granted = await this.client.subscribeAsync(this.replyTopic, { qos: 1 })
    if (granted.some((g) => g.qos === 128)) throw new Error(`the gateway's broker refused to let this user read ${this.replyTopic}: log in as a technician (broker.users, role technician)`)
  }

  /** Send `name` with `args`; rejects with CommandTimeout when no reply comes within timeoutMs. */
  send(name: string, args: Record<string, unknown>, timeoutMs = 10_000): Promise<CommandReply> {
    const id = `${this.replyTopic.slice(-12)}-${++this.seq}`
    const body = JSON.stringify({ correlation_id: id, response_topic: this.replyTopic, by: this.by, args })
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new CommandTimeout(`the gateway did not answer "${name}" within ${Math.round(timeoutMs / 1000)} s: is it running this post (${this.topics.site}/${this.topics.post})? A user without the technician role is disconnected when it sends a command`))
      }, timeoutMs)
      this.pending.set(id, { resolve, timer })
      this.client.publish(this.topics.cmd(name), body, { qos: 1 }, (err) => {
        if (!err) return
        clearTimeout(timer)
        this.pending.delete(id)
        reject(new Error(`could not send "${name}" to the gateway: ${err.message}`))
      })
    })
  }

  close(): void {
    this.client.off('message', this.onMessage)
    for (const p of this.pending.values()) clearTimeout(p.timer)
    this.pending.clear()
  }
}
