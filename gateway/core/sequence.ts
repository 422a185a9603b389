/**
 * Alert sequence numbers: monotonic per post and surviving restarts, so
 * `<site>:<post>:<seq>` is globally unique (docs/protocol.md §Alert id).
 *
 * To keep SD-card writes rare, numbers are leased in blocks (hi/lo): the file
 * holds the highest number reserved; a restart skips the unused rest of the
 * block. One small synchronous write per `block` alerts, never per alert.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { join } from 'node:path'

export interface SequenceSource {
  next(): number
}

export class MemorySequence implements SequenceSource {
  constructor(private last = 0) {}
  next(): number {
    return ++this.last
  }
}

export class FileSequence implements SequenceSource {
  private last = 0
  private reserved = 0
  private opened = false
  private readonly path: string

  constructor(dir: string, private readonly block = 1000) {
    this.path = join(dir, 'sequence')
  }

  /** Read the last reservation; throws a clear error when the file is unreadable or corrupt. */
  open(): void {
    let stored = 0
    try {
      const text = readFileSync(this.path, 'utf8').trim()
      stored = Number(text)
      // Digits only: Number('') is 0, so an empty (truncated) file would silently restart the ids at 1.
      if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(stored)) {
        throw new Error(`${this.path} holds "${text.slice(0, 40)}", not a sequence number (corrupt or truncated); move it aside to start a new sequence (ids stay unique only if you keep the old ones)`)
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
    this.last = stored
    this.reserve()
    this.opened = true
  }

  next(): number {
    // Before open() nothing is known of the file: reserving from 0 would overwrite a higher lease.
    if (!this.opened) this.open()
    if (this.last >= this.reserved) this.reserve()
    return ++this.last
  }

  private reserve(): void {
    const upTo = this.last + this.block
    const tmp = this.path + '.tmp'
    const fd = openSync(tmp, 'w', 0o600)
    try {
      writeSync(fd, `${upTo}\n`)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, this.path)
    this.reserved = upTo
  }
}
