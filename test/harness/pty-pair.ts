/**
 * A pseudo-terminal pair made by socat, for real-stack serial tests
 * (DESIGN §4: serialport on a PTY, a peer on the other end). `a` is the path
 * the code under test opens with serialport; `b` is the peer's end.
 *
 * unplug() kills socat (both ends vanish, as when a USB adapter is pulled);
 * replug() starts it again on the same link paths.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, existsSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnDaemon } from './spawn-daemon.js'

export class PtyPair {
  readonly dir: string
  readonly a: string
  readonly b: string
  private proc: ChildProcess | null = null

  constructor(name = 'tty') {
    this.dir = mkdtempSync(join(tmpdir(), `safehouse-${name}-`))
    this.a = join(this.dir, 'a')
    this.b = join(this.dir, 'b')
  }

  /** Start socat and wait until both link paths exist. */
  async open(timeoutMs = 5000): Promise<this> {
    const proc = spawnDaemon('socat', [
      `pty,raw,echo=0,link=${this.a}`,
      `pty,raw,echo=0,link=${this.b}`,
    ], { stdio: ['ignore', 'ignore', 'pipe'] })
    this.proc = proc
    let stderr = ''
    proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    const started = Date.now()
    while (!(existsSync(this.a) && existsSync(this.b))) {
      if (proc.exitCode !== null) throw new Error(`socat exited (${proc.exitCode}): ${stderr.trim()} — is socat installed? (apt-get install socat)`)
      if (Date.now() - started > timeoutMs) throw new Error(`socat did not create ${this.a} and ${this.b} within ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 10))
    }
    return this
  }

  /** Pull the plug: both ends disappear. */
  async unplug(): Promise<void> {
    const p = this.proc
    if (!p || p.exitCode !== null) return
    this.proc = null
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve())
      p.kill('SIGTERM')
    })
    // socat removes its links on exit; wait until it has.
    const started = Date.now()
    while ((existsSync(this.a) || existsSync(this.b)) && Date.now() - started < 2000) {
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  /** Plug back in on the same paths. */
  async replug(): Promise<this> {
    return this.open()
  }

  async close(): Promise<void> {
    await this.unplug()
    rmSync(this.dir, { recursive: true, force: true })
  }
}
