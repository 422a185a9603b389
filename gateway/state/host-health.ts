/**
 * The post's own hardware health for the retained gateway state (issue 6 §4:
 * `cpu_temp_c`, `disk_free_mb`): a Pi in a sun-baked kiosk roof box throttles
 * and then fails, and a full SD card stops the outbox from keeping alerts
 * (docs/operations.md "The outbox": leave 3 × max_bytes free). Maintainers
 * should see both coming.
 *
 * Sampled on its own timer (default every 30 s) with asynchronous reads, never
 * on the alert path: the getters only return the last sample. A machine
 * without the sensor (a laptop, a container, a VM) reports null, not an error.
 */
import { readFile, statfs } from 'node:fs/promises'
import type { Logger } from 'pino'
import type { Clock, TimerHandle } from '../../devices/time/clock.js'

/** Raspberry Pi OS (and most Linux boards): SoC temperature in millidegrees Celsius. */
export const PI_THERMAL_ZONE = '/sys/class/thermal/thermal_zone0/temp'
export const DEFAULT_SAMPLE_MS = 30_000
/**
 * Below this the outbox is at risk: with the defaults a long outage needs up to
 * 3 × 64 MiB (docs/operations.md "Bounds"), so 100 MB left is already a warning.
 */
export const DEFAULT_LOW_DISK_MB = 100

/** What `fs.statfs` returns that we use (blocks available to unprivileged users, block size). */
export interface FsSpace {
  bavail: number | bigint
  bsize: number | bigint
}

export interface HostHealthOptions {
  clock: Clock
  /** The data_dir whose file system holds the outbox. */
  dataDir: string
  log?: Logger
  intervalMs?: number
  lowDiskMb?: number
  /** Temperature file (millidegrees C); null = do not read one. */
  thermalPath?: string | null
  /** Seams for tests. */
  readText?: (path: string) => Promise<string>
  statfs?: (path: string) => Promise<FsSpace>
  /**
   * Called when the low-disk flag flips (publish the gateway state now). Plain value changes
   * are not reported: the next periodic state publish carries them, so a temperature moving
   * by 0.1 °C does not republish the retained state every 30 s.
   */
  onLowDiskChange?: (low: boolean, health: HostHealth) => void
}

export class HostHealth {
  /** SoC temperature in °C (0.1 °C resolution), or null when there is no sensor or it cannot be read. */
  cpuTempC: number | null = null
  /** MB (2^20 bytes) the service user can still write on data_dir's file system, or null when unknown. */
  diskFreeMb: number | null = null
  /** True while the free space last known is below the threshold. */
  lowDisk = false
  samples = 0
  private timer: TimerHandle | null = null
  private inFlight: Promise<void> | null = null
  private running = false
  /** Last error code logged per source, so a persistent problem is logged once, not every 30 s. */
  private readonly lastProblem = { temp: '', disk: '' }
  private readonly intervalMs: number
  private readonly lowDiskMb: number
  private readonly thermalPath: string | null
  private readonly readText: (path: string) => Promise<string>
  private readonly statfs: (path: string) => Promise<FsSpace>

  constructor(private readonly o: HostHealthOptions) {
    this.intervalMs = o.intervalMs ?? DEFAULT_SAMPLE_MS
    this.lowDiskMb = o.lowDiskMb ?? DEFAULT_LOW_DISK_MB
    this.thermalPath = o.thermalPath === undefined ? PI_THERMAL_ZONE : o.thermalPath
    this.readText = o.readText ?? ((p) => readFile(p, 'utf8'))
    this.statfs = o.statfs ?? ((p) => statfs(p))
  }

  /** Take a first sample now, then one every interval. */
  start(): void {
    if (this.running) return
    this.running = true
    void this.sample()
    this.arm()
  }

  stop(): void {
    this.running = false
    if (this.timer) this.o.clock.clearTimeout(this.timer)
    this.timer = null
  }

  /**
   * Read both values once. Never rejects. A sample still in flight (a slow SD
   * card) is shared, not doubled. Returns when the values are updated.
   */
  sample(): Promise<void> {
    if (this.inFlight) return this.inFlight
    this.inFlight = this.readBoth().finally(() => { this.inFlight = null })
    return this.inFlight
  }

  private arm(): void {
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = null
      if (!this.running) return
      void this.sample()
      this.arm()
    }, this.intervalMs)
  }

  private async readBoth(): Promise<void> {
    const [temp, disk] = await Promise.all([this.readTemp(), this.readDisk()])
    this.samples++
    // Unknown space (statfs failed) keeps the last verdict rather than calling it "ok again".
    const low = disk === null ? this.lowDisk : disk < this.lowDiskMb
    const flipped = low !== this.lowDisk
    if (flipped) {
      if (low) this.o.log?.warn({ data_dir: this.o.dataDir, disk_free_mb: disk, threshold_mb: this.lowDiskMb }, 'data_dir disk space low: the outbox may soon be unable to store alerts; free space or use a larger card')
      else this.o.log?.info({ data_dir: this.o.dataDir, disk_free_mb: disk }, 'data_dir disk space ok again')
    }
    this.cpuTempC = temp
    this.diskFreeMb = disk
    this.lowDisk = low
    if (!flipped) return
    try {
      this.o.onLowDiskChange?.(low, this)
    } catch (e) {
      // A timer-driven sample has no caller to reject to: a throwing listener must not crash the gateway.
      this.o.log?.error({ err: (e as Error).message }, 'host health listener failed')
    }
  }

  private async readTemp(): Promise<number | null> {
    if (this.thermalPath === null) return null
    let text: string
    try {
      text = (await this.readText(this.thermalPath)).trim()
    } catch (e) {
      // No thermal zone (not a Pi, a container): expected, report nothing.
      const code = (e as NodeJS.ErrnoException).code ?? 'error'
      if (code !== 'ENOENT' && code !== 'ENODEV') this.problem('temp', code, { path: this.thermalPath, err: (e as Error).message }, 'cannot read the CPU temperature')
      return null
    }
    // The kernel prints an integer in millidegrees ("48312"); anything else is not a reading.
    if (!/^-?\d{1,7}$/.test(text)) {
      this.problem('temp', 'format', { path: this.thermalPath, text: text.slice(0, 20) }, 'CPU temperature file holds no millidegree reading')
      return null
    }
    this.lastProblem.temp = ''
    return Math.round(Number(text) / 100) / 10
  }

  private async readDisk(): Promise<number | null> {
    let s: FsSpace
    try {
      s = await this.statfs(this.o.dataDir)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error'
      this.problem('disk', code, { data_dir: this.o.dataDir, err: (e as Error).message }, 'cannot read the free space of data_dir')
      return null
    }
    // bavail, not bfree: blocks reserved for root are no use to the service user.
    const bytes = Number(s.bavail) * Number(s.bsize)
    if (!Number.isFinite(bytes) || bytes < 0) return null
    this.lastProblem.disk = ''
    return Math.floor(bytes / 1048576)
  }

  private problem(source: 'temp' | 'disk', code: string, fields: object, msg: string): void {
    if (this.lastProblem[source] === code) return
    this.lastProblem[source] = code
    this.o.log?.warn({ ...fields, code }, msg)
  }
}
