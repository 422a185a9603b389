/**
 * A real Prometheus (Debian's `prometheus` package) started by the test
 * (issue 14): a temp config scraping the given targets every second, a temp
 * TSDB, a free loopback port. query() uses the HTTP API (/api/v1/query).
 */
import { spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './mosquitto.js'
import { spawnDaemon } from './spawn-daemon.js'

export interface PromSample { metric: Record<string, string>; value: [number, string] }

export class Prometheus {
  readonly dir = mkdtempSync(join(tmpdir(), 'safehouse-prometheus-'))
  port = 0
  log = ''
  private proc: ChildProcess | null = null

  constructor(private readonly targets: string[], private readonly job = 'safehouse') {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  async start(): Promise<this> {
    this.port = await freePort()
    const conf = join(this.dir, 'prometheus.yml')
    writeFileSync(conf, [
      'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      `  - job_name: ${this.job}`,
      '    static_configs:',
      `      - targets: [${this.targets.map((t) => `"${t}"`).join(', ')}]`,
      '',
    ].join('\n'))
    this.proc = spawnDaemon('prometheus', [
      `--config.file=${conf}`, `--storage.tsdb.path=${join(this.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${this.port}`, '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'] })
    this.proc.stderr!.on('data', (d: Buffer) => { this.log += d })
    const deadline = Date.now() + 20_000
    for (;;) {
      if (this.proc.exitCode !== null) throw new Error(`prometheus exited (${this.proc.exitCode}): ${this.log}`)
      try {
        if ((await fetch(`${this.url}/-/ready`)).ok) return this
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error(`prometheus not ready within 20 s: ${this.log}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  async query(q: string): Promise<PromSample[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(q)}`)
    const body = await res.json() as { status: string; error?: string; data: { result: PromSample[] } }
    if (body.status !== 'success') throw new Error(`query ${q}: ${body.error}`)
    return body.data.result
  }

  /** Poll `q` until `ok(result)`; fails after `ms`. */
  async until(q: string, ok: (r: PromSample[]) => boolean, what: string, ms = 20_000): Promise<PromSample[]> {
    const deadline = Date.now() + ms
    for (;;) {
      const r = await this.query(q)
      if (ok(r)) return r
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what} (${q} = ${JSON.stringify(r)})`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  async close(): Promise<void> {
    const p = this.proc
    this.proc = null
    if (p && p.exitCode === null) {
      const exited = new Promise((r) => p.once('exit', r))
      p.kill('SIGTERM')
      await exited
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** `promtool check metrics` over an exposition: its exit code and what it printed. */
export function promtoolCheck(exposition: string): { code: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' })
  return { code: r.status, output: `${r.stdout}${r.stderr}` }
}

/** GET /metrics from a listener on loopback; throws unless it is the Prometheus text format. */
export async function scrapeMetrics(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`)
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`)
  if (!/^text\/plain; version=0\.0\.4/.test(res.headers.get('content-type') ?? '')) throw new Error(`not the Prometheus text format: ${res.headers.get('content-type')}`)
  return res.text()
}
