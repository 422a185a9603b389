/**
 * Roll call, station side (issue 15; the daily radio roll call of the field
 * reports, made electronic). An operator starts one for a site or a group
 * with a deadline: every post in scope that is online gets the `roll-call`
 * command (docs/protocol.md §Roll call); an offline post is marked `offline`
 * at once. A `check_in` alert naming the roll call marks the post answered
 * (who: the device's label, after how long); a `roll_call_missed` alert from
 * the post, or the deadline passing here, marks it missed.
 */
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { RollCallEntry, RollCallRow } from '../station-api.js'
import type { StationDb, AlertInsert } from '../store/station-db.js'
import type { LiveFeed } from '../live/live-feed.js'
import type { CommandResult } from '../actions/command-client.js'

export type SendCommand = (site: string, post: string, name: string, by: string, args: Record<string, unknown>) => Promise<CommandResult>

interface Active {
  row: RollCallRow
  timer: NodeJS.Timeout
}

export class RollCalls {
  private readonly active = new Map<string, Active>()

  constructor(
    private readonly db: StationDb,
    private readonly live: LiveFeed,
    private readonly send: SendCommand,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async start(by: string, scope: { site: string | null; group: string | null }, deadlineS: number): Promise<{ id: string; posts: number }> {
    const posts = await this.db.posts({ site: scope.site ?? undefined, group: scope.group ?? undefined })
    if (!posts.length) throw new Error('no_posts')
    const startedAt = this.now()
    const id = `rc-${startedAt.toString(36)}-${randomBytes(3).toString('hex')}`
    const entries: RollCallEntry[] = posts.map((p) => ({ site: p.site, post: p.post, state: p.online ? 'pending' : 'offline', answeredBy: null, answeredAt: null, delayMs: null }))
    const row: RollCallRow = { id, startedAt, deadline: startedAt + deadlineS * 1000, by, scope, entries }
    await this.db.createRollCall(row)
    const timer = setTimeout(() => void this.expire(id), deadlineS * 1000)
    timer.unref?.()
    this.active.set(id, { row, timer })
    this.live.publish({ type: 'rollcall', id })
    for (const e of entries) {
      if (e.state !== 'pending') continue
      // The post's gateway shows the roll call and answers with check_in / roll_call_missed alerts.
      void this.send(e.site, e.post, 'roll-call', by, { id, deadline_s: deadlineS }).then((r) => {
        if (!r.ok) this.log.warn({ id, site: e.site, post: e.post, error: r.error }, 'roll-call command not confirmed by the post')
      })
    }
    return { id, posts: entries.length }
  }

  /** A stored alert: a check-in or a missed roll call reported by the post. */
  async onAlert(a: AlertInsert): Promise<void> {
    if (a.kind !== 'check_in' && a.kind !== 'roll_call_missed') return
    let rcId: unknown
    try { rcId = (JSON.parse(a.payload) as { roll_call?: unknown }).roll_call } catch { return }
    const act = typeof rcId === 'string' ? this.active.get(rcId) : undefined
    if (!act) return
    const e = act.row.entries.find((x) => x.site === a.site && x.post === a.post)
    if (!e || e.state === 'answered') return
    if (a.kind === 'check_in') {
      e.state = 'answered'
      e.answeredBy = a.label || a.device
      e.answeredAt = a.receivedAt
      e.delayMs = a.receivedAt - act.row.startedAt
    } else {
      e.state = 'missed'
    }
    await this.db.setRollCallEntry(act.row.id, e.site, e.post, e.state, e.answeredBy, e.answeredAt)
    this.live.publish({ type: 'rollcall', id: act.row.id })
    this.finishIfDone(act)
  }

  private finishIfDone(act: Active): void {
    if (act.row.entries.some((e) => e.state === 'pending')) return
    clearTimeout(act.timer)
    this.active.delete(act.row.id)
  }

  private async expire(id: string): Promise<void> {
    const act = this.active.get(id)
    if (!act) return
    this.active.delete(id)
    for (const e of act.row.entries) {
      if (e.state !== 'pending') continue
      e.state = 'missed'
      try {
        await this.db.setRollCallEntry(id, e.site, e.post, 'missed', null, null)
      } catch (err) {
        this.log.error({ id, err: (err as Error).message }, 'roll call result not stored')
      }
    }
    this.live.publish({ type: 'rollcall', id })
  }

  activeIds(): string[] {
    return [...this.active.keys()]
  }

  stop(): void {
    for (const a of this.active.values()) clearTimeout(a.timer)
    this.active.clear()
  }
}
