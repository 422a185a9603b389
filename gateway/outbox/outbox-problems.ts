/**
 * Say a storage problem once per episode, not once per alert: on an SD card
 * that went read-only every batch fails the same way, and a log line per
 * alert would bury the one that matters. The episode ends with the next
 * successful write, which is logged too.
 */
import type { Logger } from 'pino'
import { type DescribedFsError, describeFsError } from './outbox-fs.js'

export class OutboxProblems {
  private current: DescribedFsError | null = null
  private fullNow = false
  /** Every failed file-system call (writes, syncs, compaction, deletes). */
  ioErrors = 0
  constructor(private readonly log: Logger) {}

  /** The open problem, for status reports (`safehouse status`, retained gateway state). */
  get message(): string | null {
    if (this.current !== null) return this.current.message
    return this.fullNow ? 'outbox: full (outbox.max_alerts or outbox.max_bytes reached); new alerts are sent but not stored until the station acknowledges older ones' : null
  }

  io(err: unknown, action: string, path: string): void {
    this.ioErrors++
    const d = describeFsError(err, action, path)
    if (this.current?.code === d.code) return
    this.current = d
    this.log.error({ code: d.code, problem: d.problem, path, advice: d.message }, 'outbox cannot write; alerts still fan out but are not durable')
  }

  ok(): void {
    if (this.current === null) return
    this.log.info({ code: this.current.code }, 'outbox writes work again')
    this.current = null
  }

  full(isFull: boolean, stored: number, bytes: number): void {
    if (isFull === this.fullNow) return
    this.fullNow = isFull
    if (isFull) this.log.warn({ stored, bytes }, 'outbox full; new alerts are sent but not stored until older ones are acknowledged')
    else this.log.info({ stored, bytes }, 'outbox has room again')
  }
}
