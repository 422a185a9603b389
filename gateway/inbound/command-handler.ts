/**
 * Station and technician commands (docs/protocol.md §Commands): request on
 * …/cmd/<name>, response with the same correlation id on the request's
 * response topic (MQTT 5 properties, or response_topic/correlation_id in the
 * payload for MQTT 3.1.1). Unknown commands and bad arguments get an error
 * reply that says what to do; nothing here throws.
 */
import type { Logger } from 'pino'
import { checkPayload } from '../../protocols/mqtt/schemas.js'

export interface CommandRequest {
  correlation_id?: string
  response_topic?: string
  by?: string
  args?: Record<string, unknown>
}

export type CommandResult = { ok: true; result?: object } | { ok: false; error: string }
export type CommandFn = (args: Record<string, unknown>, by: string) => CommandResult

export interface ReplyChannel {
  reply(topic: string, payload: Buffer, correlationData?: Buffer): void
}

export class CommandHandler {
  private readonly commands = new Map<string, CommandFn>()
  handled = 0
  rejected = 0

  constructor(private readonly log: Logger) {}

  register(name: string, fn: CommandFn): void {
    this.commands.set(name, fn)
  }

  handle(name: string, payload: Buffer, via: ReplyChannel, props: { responseTopic?: string; correlationData?: Buffer }): void {
    const parsed = payload.length === 0 ? { ok: true as const, value: {} as CommandRequest } : checkPayload<CommandRequest>('commandRequest', payload)
    let result: CommandResult
    let req: CommandRequest = {}
    if (!parsed.ok) {
      result = { ok: false, error: `bad request payload: ${parsed.error}` }
      // An MQTT 3.1.1 requester names its reply topic in the payload: still tell it what was wrong.
      req = replyFields(payload)
    } else {
      req = parsed.value
      const fn = this.commands.get(name)
      if (!fn) result = { ok: false, error: `unknown command "${name}"; known: ${[...this.commands.keys()].join(', ')}` }
      else {
        try {
          result = fn(req.args ?? {}, req.by ?? 'unknown')
        } catch (e) {
          result = { ok: false, error: `command failed: ${e instanceof Error ? e.message : String(e)}` }
        }
      }
    }
    if (result.ok) this.handled++
    else this.rejected++
    this.log.info({ command: name, by: req.by, ok: result.ok, error: result.ok ? undefined : result.error }, 'command handled')
    const topic = props.responseTopic ?? req.response_topic
    if (!topic) return
    const correlation = props.correlationData?.toString('utf8') ?? req.correlation_id ?? null
    const body = { v: 1, command: name, correlation_id: correlation, ok: result.ok, ...(result.ok ? { result: result.result ?? {} } : { error: result.error }) }
    via.reply(topic, Buffer.from(JSON.stringify(body)), props.correlationData)
  }
}

/** response_topic / correlation_id of a request that failed the schema, when they are usable strings. */
function replyFields(payload: Buffer): CommandRequest {
  let v: unknown
  try {
    v = JSON.parse(payload.toString('utf8'))
  } catch {
    return {}
  }
  if (typeof v !== 'object' || v === null) return {}
  const { response_topic: topic, correlation_id: id } = v as Record<string, unknown>
  return {
    response_topic: typeof topic === 'string' && topic.length > 0 && topic.length <= 256 ? topic : undefined,
    correlation_id: typeof id === 'string' && id.length > 0 && id.length <= 128 ? id : undefined,
  }
}
