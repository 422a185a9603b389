/**
 * File-backed ReplayCounterStore: one JSON file in the gateway's data dir,
 * `{ "version": 1, "counters": { "AA:BB:CC:DD:EE:FF": 1122867 }, "high_water": { "AA:…": 300 } }`.
 * `high_water` (optional, issue 12 §5) holds the old high-water mark of each
 * device in the restarted state; a reader that predates it ignores it.
 *
 * Writes are atomic (write a temp file, fsync, rename over the old file,
 * fsync the directory) so a power cut leaves either the old or the new file,
 * never a torn one; mode 0600 because the counters tell an attacker which
 * captured packets are still replayable. Writes are debounced: a burst of
 * adverts is one write, not N. The price is a window (debounce_ms, default
 * 1 s) in which a crash loses the newest counters; after such a crash the
 * packets in that window could be replayed once. docs/devices/ble.md says so.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'
import type { Clock, TimerHandle } from '../time/clock.js'
import { isCounter, type ReplayCounterStore } from './replay-store.js'

export interface FileReplayCounterStoreOptions {
  /** Data directory (created with mode 0700 when missing). */
  dir: string
  clock: Clock
  /** Delay between the first unsaved change and the write. Default 1000 ms. */
  debounceMs?: number
  /** Default "ble-replay-counters.json". */
  fileName?: string
}

const FORMAT_VERSION = 1

export class FileReplayCounterStore implements ReplayCounterStore {
  /** Set when the file existed but could not be used (the composition root logs it); the bad file is kept aside. */
  loadWarning: string | null = null
  /** Last write failure (kept dirty and retried on the next change or flush). */
  lastWriteError: Error | null = null
  /** Completed file writes (tests check that a burst of changes is one write). */
  writes = 0
  private readonly counters = new Map<string, number>()
  private readonly highs = new Map<string, number>()
  private dirty = false
  private timer: TimerHandle | null = null
  private chain: Promise<void> = Promise.resolve()
  private closed = false
  private readonly path: string
  private readonly debounceMs: number

  private constructor(private readonly opts: FileReplayCounterStoreOptions) {
    this.path = join(opts.dir, opts.fileName ?? 'ble-replay-counters.json')
    this.debounceMs = opts.debounceMs ?? 1000
  }

  static async open(opts: FileReplayCounterStoreOptions): Promise<FileReplayCounterStore> {
    const store = new FileReplayCounterStore(opts)
    await mkdir(opts.dir, { recursive: true, mode: 0o700 })
    await store.load()
    return store
  }

  get filePath(): string {
    return this.path
  }

  get(address: string): number {
    return this.counters.get(address) ?? -1
  }

  getHigh(address: string): number {
    return this.highs.get(address) ?? -1
  }

  set(address: string, counter: number, high = -1): void {
    if (this.counters.get(address) === counter && this.getHigh(address) === high) return
    this.counters.set(address, counter)
    if (high >= 0) this.highs.set(address, high)
    else this.highs.delete(address)
    this.markDirty()
  }

  delete(address: string): void {
    const had = this.counters.delete(address)
    if (this.highs.delete(address) || had) this.markDirty()
  }

  flush(): Promise<void> {
    if (this.timer !== null) {
      this.opts.clock.clearTimeout(this.timer)
      this.timer = null
    }
    if (!this.dirty) return this.chain
    this.dirty = false
    const text = this.serialize()
    this.chain = this.chain.then(() => this.writeAtomic(text)).then(
      () => { this.lastWriteError = null },
      (e: unknown) => {
        this.lastWriteError = e instanceof Error ? e : new Error(String(e))
        this.dirty = true // retried on the next change or flush
      },
    )
    return this.chain
  }

  async close(): Promise<void> {
    if (this.closed) return this.chain
    this.closed = true
    await this.flush()
  }

  private markDirty(): void {
    this.dirty = true
    if (this.timer === null && !this.closed) {
      this.timer = this.opts.clock.setTimeout(() => {
        this.timer = null
        void this.flush()
      }, this.debounceMs)
    }
  }

  private serialize(): string {
    const counters: Record<string, number> = {}
    for (const [k, v] of [...this.counters].sort((a, b) => (a[0] < b[0] ? -1 : 1))) counters[k] = v
    const high_water: Record<string, number> = {}
    for (const [k, v] of [...this.highs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) high_water[k] = v
    return JSON.stringify({ version: FORMAT_VERSION, counters, ...(this.highs.size ? { high_water } : {}) }, null, 2) + '\n'
  }

  private async load(): Promise<void> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return
      throw new Error(`cannot read BLE replay counters at ${this.path}: ${(e as Error).message}; check the data dir permissions`)
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      parsed = undefined
    }
    const counters = (parsed as { version?: unknown; counters?: unknown } | undefined)?.counters
    if ((parsed as { version?: unknown } | undefined)?.version !== FORMAT_VERSION || typeof counters !== 'object' || counters === null) {
      // Do not refuse to start (alarms matter more), but keep the evidence and say so.
      const aside = `${this.path}.corrupt-${this.opts.clock.now()}`
      await rename(this.path, aside).catch(() => undefined)
      this.loadWarning = `BLE replay counter file ${this.path} is not valid (moved to ${aside}); encrypted devices start without replay history`
      return
    }
    for (const [addr, v] of Object.entries(counters)) if (isCounter(v)) this.counters.set(addr, v)
    const highs = (parsed as { high_water?: unknown }).high_water
    if (typeof highs === 'object' && highs !== null) {
      for (const [addr, v] of Object.entries(highs)) if (isCounter(v) && this.counters.has(addr)) this.highs.set(addr, v)
    }
  }

  private async writeAtomic(text: string): Promise<void> {
    const tmp = `${this.path}.tmp`
    const fh = await open(tmp, 'w', 0o600)
    try {
      await fh.chmod(0o600) // mode applies only on create; a left-over tmp may have other bits
      await fh.writeFile(text, 'utf8')
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, this.path)
    this.writes++
    // fsync the directory so the rename itself survives a power cut (POSIX rename durability).
    const dh = await open(this.opts.dir, 'r').catch(() => null)
    if (dh !== null) {
      await dh.sync().catch(() => undefined)
      await dh.close()
    }
  }
}
