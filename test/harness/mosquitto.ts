/**
 * A real mosquitto (Debian's package) as the station broker, started by the
 * test itself on a free loopback port (DESIGN §4). stop()/start() simulate a
 * station outage; kill() is an unclean loss.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { canConnect } from './loopback-cluster.js'
import { spawnDaemon } from './spawn-daemon.js'

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export class Mosquitto {
  readonly dir = mkdtempSync(join(tmpdir(), 'safehouse-mosquitto-'))
  port = 0
  private proc: ChildProcess | null = null
  log = ''

  /** persistent: keep sessions and queued QoS 1 messages across stop()/start(), as a real station broker would. */
  constructor(private readonly opts: { persistent?: boolean; extraConf?: string } = {}) {}

  /** The broker's pid while it runs (null when stopped). */
  get pid(): number | null {
    return this.proc?.pid ?? null
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`
  }

  async start(): Promise<this> {
    if (!this.port) this.port = await freePort()
    const conf = join(this.dir, 'mosquitto.conf')
    // `user root`: as root, mosquitto otherwise drops to the "mosquitto" user, which cannot read or
    // write our 0700 temp dir (certificates, persistence); ignored when not run as root.
    const persist = this.opts.persistent ? `persistence true\npersistence_location ${this.dir}/\n` : 'persistence false\n'
    // extraConf comes right after the listener line, so listener options (TLS files) apply to it.
    writeFileSync(conf, `user root\nlistener ${this.port} 127.0.0.1\n${this.opts.extraConf ?? ''}\nallow_anonymous true\n${persist}`)
    const proc = spawnDaemon('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] })
    proc.on('error', () => {})
    proc.stdout?.on('data', (d: Buffer) => { this.log += d.toString() })
    proc.stderr?.on('data', (d: Buffer) => { this.log += d.toString() })
    this.proc = proc
    const started = Date.now()
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited (${proc.exitCode}); is it installed (apt-get install mosquitto)? ${this.log}`)
      if (await canConnect(this.port)) return this
      if (Date.now() - started > 10_000) throw new Error(`mosquitto did not listen on ${this.port} within 10 s: ${this.log}`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  /** Freeze the broker (SIGSTOP): connections stay open but nothing is answered — a hung station. */
  pause(): void { this.proc?.kill('SIGSTOP') }
  resume(): void { this.proc?.kill('SIGCONT') }

  async stop(): Promise<void> {
    this.resume()
    const p = this.proc
    this.proc = null
    if (!p || p.exitCode !== null) return
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve())
      p.kill('SIGTERM')
    })
  }

  async close(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

