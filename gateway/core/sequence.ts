/**
 * Alert sequence numbers: monotonic per post and surviving restarts, so
 * `<site>:<post>:<seq>` is globally unique (docs/protocol.md §Alert id).
 *
 * To keep SD-card writes rare, numbers are leased in blocks (hi/lo): the file
 * holds the highest number reserved; a restart skips the unused rest of the
 * block. One small write per `block` alerts, never per alert.
 *
 * The next lease is written AHEAD, off the event loop (issue 13 §1): once half
 * of the current block is used, the next block's high mark is written and
 * fsync'd in libuv's thread pool, and only its rename is done here. The lease
 * used to be written synchronously by the alert that found the block empty:
 * that alert waited for an fsync (2-6 ms on the bench machine, far more on an
 * SD card) before it reached any sink. A number is still never handed out
 * above what the file holds; if a burst empties the block before the lease
 * ahead is on disk, the lease is written synchronously as before.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { open as openAsync, unlink } from 'node:fs/promises'
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
  /** The lease being written ahead (at most one), or null. */
  private ahead: Promise<void> | null = null
  /** The reservation during which a lease ahead failed: no second try until the next block. */
  private aheadFailedAt = -1
  /** Leases written: on the alert's path (open, or a burst outran the lease ahead) and ahead of need. */
  readonly counters = { syncLeases: 0, leasesAhead: 0, leaseAheadFailures: 0 }

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
    else if (!this.ahead && this.reserved - this.last <= this.block / 2 && this.reserved !== this.aheadFailedAt) this.ahead = this.leaseAhead(this.reserved + this.block)
    return ++this.last
  }

  /** Resolves once no lease is being written (the gateway's stop, tests). */
  async settled(): Promise<void> {
    while (this.ahead) await this.ahead
  }

  private reserve(): void {
    const upTo = this.last + this.block
    this.write(this.path + '.tmp', upTo)
    renameSync(this.path + '.tmp', this.path)
    this.reserved = upTo
    this.counters.syncLeases++
  }

  private write(file: string, upTo: number): void {
    const fd = openSync(file, 'w', 0o600)
    try {
      writeSync(fd, `${upTo}\n`)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  }

  /**
   * Write `upTo` to its own temp file and fsync it in the thread pool; the rename happens here, on
   * the event loop, so it cannot interleave with a synchronous lease: the file's mark only ever
   * rises (a synchronous lease taken meanwhile wrote the same or a higher mark: this one is dropped).
   */
  private async leaseAhead(upTo: number): Promise<void> {
    const tmp = this.path + '.ahead'
    try {
      const fh = await openAsync(tmp, 'w', 0o600)
      try {
        await fh.write(`${upTo}\n`)
        await fh.sync()
      } finally {
        await fh.close()
      }
      if (upTo > this.reserved) {
        renameSync(tmp, this.path)
        this.reserved = upTo
        this.counters.leasesAhead++
      } else await unlink(tmp)
    } catch {
      // Not fatal: the block's end takes the synchronous lease, which reports a real failure.
      this.counters.leaseAheadFailures++
      this.aheadFailedAt = this.reserved
    } finally {
      this.ahead = null
    }
  }
}
