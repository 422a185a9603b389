/**
 * The file-system seam of FileOutbox: the few calls it makes, behind an
 * interface so tests can inject ENOSPC, EROFS or EIO at any step (there is no
 * small tmpfs in CI), plus the wording of file-system errors for operators.
 */
import fs from 'node:fs/promises'
import { constants } from 'node:fs'

export interface OutboxFile {
  /** Positional write; resolves with the bytes written (may be short). */
  write(buf: Buffer, off: number, len: number, position: number): Promise<number>
  /** fdatasync(2): the data (and the size needed to read it) reaches the disk. */
  datasync(): Promise<void>
  /** fsync(2). */
  sync(): Promise<void>
  truncate(len: number): Promise<void>
  close(): Promise<void>
}

export type OpenMode = 'append' | 'create'

export interface OutboxFs {
  /** Create `dir` (and parents) with mode 0700; tighten it to 0700 if it is looser. */
  ensureDir(dir: string): Promise<void>
  readdir(dir: string): Promise<string[]>
  readFile(path: string): Promise<Buffer>
  /** 'append': open an existing file read-write; 'create': create or truncate with mode 0600. */
  open(path: string, mode: OpenMode): Promise<OutboxFile>
  rename(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
  /** fsync the directory so a create/rename/unlink survives a power cut. */
  syncDir(dir: string): Promise<void>
}

export const FILE_MODE = 0o600
export const DIR_MODE = 0o700

class NodeFile implements OutboxFile {
  constructor(private readonly fh: fs.FileHandle) {}
  async write(buf: Buffer, off: number, len: number, position: number): Promise<number> {
    return (await this.fh.write(buf, off, len, position)).bytesWritten
  }
  datasync(): Promise<void> { return this.fh.datasync() }
  sync(): Promise<void> { return this.fh.sync() }
  truncate(len: number): Promise<void> { return this.fh.truncate(len) }
  close(): Promise<void> { return this.fh.close() }
}

export const nodeOutboxFs: OutboxFs = {
  async ensureDir(dir) {
    await fs.mkdir(dir, { recursive: true, mode: DIR_MODE })
    const st = await fs.stat(dir)
    if (!st.isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' })
    if ((st.mode & 0o077) !== 0) await fs.chmod(dir, DIR_MODE)
  },
  readdir: (dir) => fs.readdir(dir),
  readFile: (path) => fs.readFile(path),
  async open(path, mode) {
    const flags = mode === 'append' ? constants.O_RDWR : constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC
    return new NodeFile(await fs.open(path, flags, FILE_MODE))
  },
  rename: (from, to) => fs.rename(from, to),
  unlink: (path) => fs.unlink(path),
  async syncDir(dir) {
    const fh = await fs.open(dir, constants.O_RDONLY)
    try { await fh.sync() } finally { await fh.close() }
  },
}

export type FsProblem = 'full' | 'read-only' | 'permission' | 'io'

export interface DescribedFsError { problem: FsProblem; code: string; message: string }

/** Say what went wrong, where, and what to do (DESIGN §4 "Errors"). */
export function describeFsError(err: unknown, action: string, path: string): DescribedFsError {
  const code = (err as { code?: unknown })?.code
  const c = typeof code === 'string' ? code : 'EUNKNOWN'
  const detail = err instanceof Error ? err.message : String(err)
  switch (c) {
    case 'ENOSPC':
    case 'EDQUOT':
      return { problem: 'full', code: c, message: `outbox: disk full (${c}) ${action} ${path}; free space on that partition or lower outbox.max_alerts / outbox.max_bytes` }
    case 'EROFS':
      return { problem: 'read-only', code: c, message: `outbox: read-only file system (${c}) ${action} ${path}; the SD card may have been remounted read-only after I/O errors: check dmesg, fsck or replace the card, or point data_dir at a writable directory` }
    case 'EACCES':
    case 'EPERM':
      return { problem: 'permission', code: c, message: `outbox: permission denied (${c}) ${action} ${path}; make the directory owned and writable by the gateway's user (chown), or point data_dir elsewhere` }
    case 'ENOTDIR':
    case 'ENOENT':
      return { problem: 'io', code: c, message: `outbox: no such directory (${c}) ${action} ${path}; point data_dir at a directory on a mounted, writable partition` }
    default:
      return { problem: 'io', code: c, message: `outbox: I/O error (${c}) ${action} ${path}: ${detail}; check the storage device (dmesg)` }
  }
}

/** open() could not make the outbox usable. The gateway should report it and fall back to a volatile outbox. */
export class OutboxOpenError extends Error {
  readonly kind = 'outbox-open' as const
  constructor(readonly problem: FsProblem, readonly code: string, message: string, readonly path: string) {
    super(message)
    this.name = 'OutboxOpenError'
  }
}
