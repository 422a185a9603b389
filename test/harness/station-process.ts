/**
 * A station service instance as its own process (`safehouse station --config`,
 * the real CLI), so a test or bench can kill -9 it (issue 16 §3), and a
 * console on it: an operator logged in over HTTP, the live feed read as the
 * browser reads it (Server-Sent Events on /api/events), acks posted with the
 * session's CSRF token.
 */
import { writeFileSync, chmodSync } from 'node:fs'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { startCli } from './cli-process.js'
import type { LiveEvent } from '../../station/station-api.js'

export interface StationProcess {
  proc: ChildProcess & { output: { out: string; err: string } }
  consoleUrl: string
  kill(signal?: NodeJS.Signals): Promise<void>
}

/** Starts the CLI on `storeUrl` and the broker nodes `urls` (first one first); resolves once its console listens. */
export async function startStationProcess(o: { dir: string; name: string; storeUrl: string; urls: string[]; user?: { name: string; password: string }; protocol?: 'auto' | '5' | '3.1.1'; timeoutMs?: number }): Promise<StationProcess> {
  const f = join(o.dir, `${o.name}.yaml`)
  const failover = o.urls.slice(1)
  const secrets = join(o.dir, `${o.name}-secrets.yaml`)
  if (o.user) {
    writeFileSync(secrets, `broker_password: ${JSON.stringify(o.user.password)}\n`)
    chmodSync(secrets, 0o600)
  }
  writeFileSync(f, [
    `store: ${o.storeUrl}`,
    ...(o.user ? [`secrets_file: ${secrets}`] : []),
    'broker:',
    `  url: ${o.urls[0]}`,
    ...(o.user ? [`  username: ${o.user.name}`] : []),
    ...(o.protocol ? [`  protocol: ${o.protocol}`] : []),
    ...(failover.length ? ['  failover_urls:', ...failover.map((u) => `    - ${u}`)] : []),
    `  client_id: ${o.name}`,
    'web:',
    '  port: 0',
    'metrics:',
    '  enabled: false',
    'unknown_post_grace_ms: 3000',
    'log:',
    '  level: warn',
    '',
  ].join('\n'))
  const proc = startCli(['station', '--config', f])
  const end = Date.now() + (o.timeoutMs ?? 60_000)
  let url: string | undefined
  while (!(url = /console on (http:\/\/\S+)/.exec(proc.output.err)?.[1])) {
    if (proc.exitCode !== null) throw new Error(`station ${o.name} exited (${proc.exitCode}): ${proc.output.err.slice(-2000)}`)
    if (Date.now() > end) throw new Error(`station ${o.name} did not start: ${proc.output.err.slice(-2000)}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    proc,
    consoleUrl: url.replace(/\/$/, ''),
    kill: (signal = 'SIGKILL') => new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve()
      proc.once('exit', () => resolve())
      proc.kill(signal)
    }),
  }
}

export interface ConsoleSession {
  /** Acknowledge as this operator (POST /api/alerts/:id/ack); resolves with the HTTP status and the refusal, if any. */
  ack(id: string, note?: string | null): Promise<{ status: number; error: string | null }>
  /** The console's queue view (GET /api/queue, from the store): ids of alerts not yet acknowledged. */
  openAlerts(): Promise<string[]>
  /** Stop reading the live feed. */
  close(): void
}

/** Logs in as an operator and reads the live feed; `onEvent` gets each event with the time it arrived. */
export async function openConsole(consoleUrl: string, name: string, password: string, onEvent: (e: LiveEvent, at: number) => void): Promise<ConsoleSession> {
  const origin = consoleUrl
  const r = await fetch(`${consoleUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ name, password }) })
  if (r.status !== 200) throw new Error(`login as ${name} at ${consoleUrl}: HTTP ${r.status}`)
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0]
  const { csrf } = (await r.json()) as { csrf: string }
  const ac = new AbortController()
  const res = await fetch(`${consoleUrl}/api/events`, { headers: { cookie, accept: 'text/event-stream' }, signal: ac.signal })
  if (res.status !== 200 || !res.body) throw new Error(`live feed at ${consoleUrl}: HTTP ${res.status}`)
  void (async () => {
    const dec = new TextDecoder()
    let buf = ''
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const at = Date.now()
        buf += dec.decode(chunk, { stream: true })
        let i
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i)
          buf = buf.slice(i + 2)
          if (/^event:/m.test(frame)) continue // health, caughtup, reload: not a live event
          const data = /^data: (.*)$/m.exec(frame)?.[1]
          if (data) onEvent(JSON.parse(data) as LiveEvent, at)
        }
      }
    } catch { /* aborted or the instance died */ }
  })()
  return {
    ack: async (id, note = null) => {
      // Bounded: an instance that never answers (killed, or stuck) must not hold the operator's desk.
      const a = await fetch(`${consoleUrl}/api/alerts/${encodeURIComponent(id)}/ack`, { method: 'POST', headers: { 'content-type': 'application/json', origin, cookie, 'x-csrf-token': csrf }, body: JSON.stringify({ note }), signal: AbortSignal.timeout(10_000) })
      const body = (await a.json().catch(() => ({}))) as { error?: string }
      return { status: a.status, error: body.error ?? null }
    },
    openAlerts: async () => {
      const q = await fetch(`${consoleUrl}/api/queue`, { headers: { cookie }, signal: AbortSignal.timeout(10_000) })
      const body = (await q.json()) as { alerts?: Array<{ id: string; ackAt: number | null }> }
      return (body.alerts ?? []).filter((a) => a.ackAt === null).map((a) => a.id)
    },
    close: () => ac.abort(),
  }
}
