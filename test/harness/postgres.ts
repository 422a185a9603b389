/**
 * A real PostgreSQL 15 (Debian's binaries) for tests, started here in a temp
 * dir on a free port with its socket in that dir. Debian's postgres refuses
 * to run as root, so when we are root initdb runs as the `postgres` user
 * (runuser), postgres itself with spawn's uid/gid (spawn-daemon.ts: runuser
 * would fork and stand between the test and the postmaster), and the temp dir
 * is chowned to it.
 */
import { execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, chownSync, existsSync, writeFileSync, chmodSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { freePort } from './mosquitto.js'
import { spawnDaemon } from './spawn-daemon.js'

const BIN = '/usr/lib/postgresql/15/bin'

export function postgresAvailable(): boolean {
  return existsSync(join(BIN, 'postgres'))
}

function asPostgres(cmd: string, args: string[]): { cmd: string; args: string[] } {
  return process.getuid?.() === 0 ? { cmd: 'runuser', args: ['-u', 'postgres', '--', cmd, ...args] } : { cmd, args }
}

function postgresUser(): { uid: number; gid: number } {
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  }
}

export class Postgres {
  readonly dir = mkdtempSync(join(tmpdir(), 'safehouse-pg-'))
  port = 0
  private proc: ChildProcess | null = null
  log = ''

  /** The postmaster's pid while it runs (null when stopped). */
  get pid(): number | null {
    return this.proc?.pid ?? null
  }

  get url(): string {
    return `postgres://safehouse@127.0.0.1:${this.port}/safehouse`
  }

  async start(): Promise<this> {
    if (!this.port) this.port = await freePort()
    const data = join(this.dir, 'data')
    const user = process.getuid?.() === 0 ? postgresUser() : null
    if (user) chownSync(this.dir, user.uid, user.gid)
    chmodSync(this.dir, 0o700)
    if (!existsSync(data)) {
      const pw = join(this.dir, 'pw')
      writeFileSync(pw, 'unused\n')
      if (process.getuid?.() === 0) execFileSync('chown', ['postgres', pw])
      const i = asPostgres(join(BIN, 'initdb'), ['-D', data, '-U', 'safehouse', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'])
      execFileSync(i.cmd, i.args, { stdio: 'pipe' })
    }
    const args = ['-D', data, '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'shared_buffers=32MB', '-c', 'max_connections=40']
    // Own process group: stop() signals the group (the postmaster and its backends).
    // Dies with the test process by SIGQUIT, postgres's immediate shutdown: the postmaster ends its backends too.
    const proc = spawnDaemon(join(BIN, 'postgres'), args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, deathSignal: 'SIGQUIT', ...(user ?? {}) })
    proc.on('error', () => {})
    proc.stdout?.on('data', (d: Buffer) => { this.log += d.toString() })
    proc.stderr?.on('data', (d: Buffer) => { this.log += d.toString() })
    this.proc = proc
    const started = Date.now()
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`postgres exited (${proc.exitCode}): ${this.log}`)
      if (await this.ready()) return this
      if (Date.now() - started > 20_000) throw new Error(`postgres did not accept connections on ${this.port} within 20 s: ${this.log}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  private async ready(): Promise<boolean> {
    const c = new pg.Client({ connectionString: `postgres://safehouse@127.0.0.1:${this.port}/postgres`, connectionTimeoutMillis: 1000 })
    c.on('error', () => {})
    try {
      await c.connect()
      const r = await c.query("SELECT 1 FROM pg_database WHERE datname = 'safehouse'")
      if (!r.rowCount) await c.query('CREATE DATABASE safehouse')
      return true
    } catch {
      return false
    } finally {
      // end() on a client whose connect failed may never settle: do not wait for it.
      void c.end().catch(() => {})
    }
  }

  /** A fresh, empty database on this server (one per test). */
  async database(name: string): Promise<string> {
    const c = new pg.Client({ connectionString: this.url })
    await c.connect()
    try {
      await c.query(`DROP DATABASE IF EXISTS "${name}"`)
      await c.query(`CREATE DATABASE "${name}"`)
    } finally {
      await c.end()
    }
    return `postgres://safehouse@127.0.0.1:${this.port}/${name}`
  }

  /** Fast shutdown (SIGINT): an outage of the database. */
  async stop(): Promise<void> {
    const p = this.proc
    this.proc = null
    if (!p || p.exitCode !== null) return
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve())
      try { process.kill(-(p.pid as number), 'SIGINT') } catch { p.kill('SIGINT') }
    })
  }

  async close(): Promise<void> {
    await this.stop()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
