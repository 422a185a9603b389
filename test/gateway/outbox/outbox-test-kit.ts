/**
 * Test helpers for the file outbox: temp dirs that clean up, a log that
 * records lines, and a file-system seam that fails on demand (ENOSPC, EROFS,
 * a short write) — CI has no small tmpfs to fill for real.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino, { type Logger } from 'pino'
import { type OutboxFile, type OutboxFs, nodeOutboxFs } from '../../../gateway/outbox/outbox-fs.js'
import { FileOutbox, type FileOutboxOptions } from '../../../gateway/outbox/file-outbox.js'
import { type TapTest, alert, collect } from './conformance.js'

export function tmpDir(t: TapTest): string {
  const d = mkdtempSync(join(tmpdir(), 'safehouse-outbox-'))
  t.teardown(() => rmSync(d, { recursive: true, force: true }))
  return d
}

export const silent: Logger = pino({ level: 'silent' })

export function captureLog(): { log: Logger; lines: Array<{ level: number; msg: string; [k: string]: unknown }> } {
  const lines: Array<{ level: number; msg: string }> = []
  const log = pino({ level: 'debug' }, { write: (s: string) => { lines.push(JSON.parse(s)) } })
  return { log, lines }
}

export function fsError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code })
}

/** nodeOutboxFs with switches to make calls fail. */
export class FaultyFs implements OutboxFs {
  /** Make every write fail with this code (after writing `partialBytes` of it, if set). */
  failWrites: string | null = null
  partialBytes = 0
  failOpen: string | null = null
  failEnsureDir: string | null = null
  writes = 0

  ensureDir(dir: string): Promise<void> {
    if (this.failEnsureDir) return Promise.reject(fsError(this.failEnsureDir))
    return nodeOutboxFs.ensureDir(dir)
  }
  readdir(dir: string): Promise<string[]> { return nodeOutboxFs.readdir(dir) }
  readFile(path: string): Promise<Buffer> { return nodeOutboxFs.readFile(path) }
  async open(path: string, mode: 'append' | 'create'): Promise<OutboxFile> {
    if (this.failOpen) throw fsError(this.failOpen)
    const f = await nodeOutboxFs.open(path, mode)
    const self = this
    return {
      async write(buf, off, len, pos) {
        self.writes++
        if (self.failWrites) {
          if (self.partialBytes > 0) await f.write(buf, off, Math.min(len, self.partialBytes), pos)
          throw fsError(self.failWrites)
        }
        return f.write(buf, off, len, pos)
      },
      datasync: () => f.datasync(),
      sync: () => f.sync(),
      truncate: (n) => f.truncate(n),
      close: () => f.close(),
    }
  }
  rename(a: string, b: string): Promise<void> { return nodeOutboxFs.rename(a, b) }
  unlink(p: string): Promise<void> { return nodeOutboxFs.unlink(p) }
  syncDir(dir: string): Promise<void> { return nodeOutboxFs.syncDir(dir) }
}

/** A FileOutbox in `dir`, opened, closed at teardown (closing twice is harmless). */
export async function openFileOutbox(
  t: TapTest, dir: string, opts: Partial<FileOutboxOptions> = {},
): Promise<{ outbox: FileOutbox; opened: { recovered: number; damaged: string | null } }> {
  const outbox = new FileOutbox({ dir, log: silent, ...opts })
  const opened = await outbox.open()
  t.teardown(() => outbox.close())
  return { outbox, opened }
}

/** openFileOutbox, then alerts 1..n appended and committed; `c` keeps collecting after that. */
export async function openWithAlerts(
  t: TapTest, dir: string, n: number, opts: Partial<FileOutboxOptions> = {},
): Promise<{ outbox: FileOutbox; c: ReturnType<typeof collect> }> {
  const { outbox } = await openFileOutbox(t, dir, opts)
  const c = collect(outbox)
  for (let i = 1; i <= n; i++) outbox.append(alert(i))
  await c.waitFor(n)
  return { outbox, c }
}
