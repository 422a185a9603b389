/**
 * What the lamp-box driver tells the supervisor, the log and an installer
 * about its RS-485 line (issue 5 §3, bad input): a port that cannot be
 * opened or was lost, a unit that stopped answering, and a unit id that never
 * answered at all (then a probe says who does, once per open).
 *
 * One lost frame on a long line is normal, so a unit is called silent only
 * after SILENT_AFTER_FAILS failed transactions in a row, and said again only
 * when the kind of failure changes.
 */
import type { Logger } from 'pino'
import type { LampBoxConfig } from './config.js'
import { FAULT_PORT_LOST, FAULT_PORT_OPEN, FAULT_WRONG_UNIT, type LampSupervisor } from './lamp-supervisor.js'
import { LampBoxTxError, txErrorCounter, type ModbusTransport } from './modbus-transport.js'
import { describeProbe, type ProbeResult } from './unit-probe.js'

/** Failed transactions in a row before we say so (one lost frame on a long line is normal). */
const SILENT_AFTER_FAILS = 2
/** Noise on the line is logged at most this often (with the bytes since the last line): issue 11 §5. */
export const NOISE_LOG_MS = 60_000

export class LineDiagnosis {
  /** Why the link is down, or what a unit probe found; '' when fine. */
  text = ''
  private failStreak = 0
  private lastFailKind = ''
  private answeredSinceOpen = false
  private probedSinceOpen = false
  private noiseUnlogged = 0
  private noiseLoggedAt = -Infinity
  /** Garbage bytes seen on the line since start (also the `modbus_garbage_bytes` counter). */
  noiseBytes = 0

  constructor(
    private readonly cfg: LampBoxConfig,
    private readonly supervisor: LampSupervisor,
    private readonly log: Logger,
    private readonly transport: ModbusTransport,
    /** Monotonic ms (the driver's Clock): paces the noise log line. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Bytes on the line that were not part of a reply to our request (noise, a babbling device,
   * a late or foreign reply): counted as `modbus_garbage_bytes` and logged, at most once per
   * NOISE_LOG_MS, with the bytes since the last line. Survived either way: the next request
   * starts from a clean buffer.
   */
  noise(bytes: number): void {
    this.noiseBytes += bytes
    this.noiseUnlogged += bytes
    this.supervisor.count('modbus_garbage_bytes', bytes)
    const now = this.now()
    if (now - this.noiseLoggedAt < NOISE_LOG_MS) return
    this.noiseLoggedAt = now
    this.log.warn({ device: this.cfg.id, port: this.transport.describe, bytes: this.noiseUnlogged, total: this.noiseBytes }, 'garbage on the lamp-box line')
    this.noiseUnlogged = 0
  }

  /** Our unit never answered since the port opened: time to ask who does (once per open). */
  get shouldProbe(): boolean {
    return !this.probedSinceOpen && !this.answeredSinceOpen && this.failStreak >= SILENT_AFTER_FAILS
  }

  /** Unit ids to probe: the configured candidates other than ours. */
  get probeIds(): number[] {
    return this.cfg.probe_unit_ids.filter((id) => id !== this.cfg.unit_id)
  }

  portOpened(): void {
    this.failStreak = 0
    this.answeredSinceOpen = false
    this.probedSinceOpen = false
    this.log.info({ device: this.cfg.id, port: this.transport.describe }, 'lamp box port open')
  }

  /** `msg` from the transport's describeOpenError; logged once per outage and when it changes. */
  openFailed(msg: string, firstTry: boolean): void {
    if (firstTry || msg !== this.text) this.log.error({ device: this.cfg.id, err: msg }, 'lamp box port cannot be opened')
    this.text = msg
    this.supervisor.linkFault(FAULT_PORT_OPEN, msg)
  }

  portLost(reason: string): void {
    this.text = `lamp box "${this.cfg.id}": serial port lost (${reason}); reopening`
    this.log.error({ device: this.cfg.id, reason }, 'lamp box port lost')
    this.supervisor.count('port_lost')
    this.supervisor.linkFault(FAULT_PORT_LOST, this.text)
  }

  /** The unit took a pattern write. */
  wrote(): void { this.answeredSinceOpen = true }

  /** A poll answered and decoded: whatever was wrong is over. */
  pollOk(): void {
    this.failStreak = 0
    this.answeredSinceOpen = true
    this.text = ''
  }

  /** A poll answered with a reply that does not decode. */
  badFrame(): void {
    this.supervisor.pollFailed('modbus_bad_frame')
    this.failStreak++
  }

  /**
   * A transaction failed: count it, and say so once the unit is silent.
   * Returns why the port itself counts as lost (the driver closes and
   * reopens it), or '' when only the unit failed.
   */
  txFailed(e: unknown, what: string): string {
    const err = e instanceof LampBoxTxError ? e : new LampBoxTxError('io', e instanceof Error ? e.message : String(e))
    if (err.kind === 'port_closed' || err.kind === 'io') return `${what} failed: ${err.message}`
    this.supervisor.pollFailed(txErrorCounter(err.kind))
    this.failStreak++
    // A PTY or USB adapter can vanish without a close event: a timeout is when to look.
    if (err.kind === 'timeout' && !this.transport.pathExists()) return `${this.transport.describe} vanished`
    const changed = err.kind !== this.lastFailKind
    this.lastFailKind = err.kind
    if (this.failStreak >= SILENT_AFTER_FAILS && (this.failStreak === SILENT_AFTER_FAILS || changed) && this.answeredSinceOpen) {
      const how = err.kind === 'timeout' ? 'stopped answering' : 'answers with errors'
      this.text = `lamp box "${this.cfg.id}": unit ${this.cfg.unit_id} on ${this.transport.describe} ${how} (${err.message})`
      this.log.warn({ device: this.cfg.id, err: err.message }, 'lamp box stopped answering')
      this.supervisor.linkSilent(this.text)
    }
    return ''
  }

  probeStarted(): void { this.probedSinceOpen = true }

  /** What the probe of probeIds found: other units answer (wrong unit id) or nothing does. */
  unitProbed(found: ProbeResult): void {
    const msg = describeProbe(this.cfg.id, this.transport.describe, this.cfg.unit_id, found)
    this.text = msg
    this.log.error({ device: this.cfg.id, answered: found.answered, silent: found.silent }, 'lamp box unit id does not answer')
    if (found.answered.length > 0) this.supervisor.linkFault(FAULT_WRONG_UNIT, msg)
    else this.supervisor.linkSilent(msg)
  }
}
