/**
 * What an operator can do (station-api StationActions), each audited.
 * Acknowledge: stored first (with the operator's name and note), then the
 * contract's ack `{id, by, at}` goes to `…/<post>/ack` at QoS 1. When the
 * database is down the ack is refused: the station never acknowledges on
 * anyone's behalf, and an ack nobody can find later is worse than none.
 */
import { PostTopics } from '../../protocols/mqtt/topics.js'
import type { ActionContext, StationActions } from '../station-api.js'
import type { StationDb } from '../store/station-db.js'
import type { LiveFeed } from '../live/live-feed.js'
import type { StationBroker } from '../ingest/station-broker.js'
import type { StoreWriter } from '../ingest/store-writer.js'
import type { CommandClient } from './command-client.js'
import type { RollCalls } from '../rollcall/roll-calls.js'

/** Who acknowledges a roll call's answers (the ack's `by`, the audit's `who`). */
export const ROLL_CALL_ACKER = 'roll-call'

export class Actions implements StationActions {
  /** Ack ids this instance published live itself (so their echo from the broker is not shown twice). */
  readonly ownAcks = new Set<string>()

  constructor(
    private readonly db: StationDb,
    private readonly writer: StoreWriter,
    private readonly live: LiveFeed,
    private readonly broker: StationBroker,
    private readonly commands: CommandClient,
    private readonly rollCalls: RollCalls,
    private readonly now: () => number = Date.now,
  ) {}

  async acknowledge(ctx: ActionContext, alertId: string, note: string | null): Promise<{ ok: true } | { ok: false; error: string }> {
    if (!this.writer.dbOk) return { ok: false, error: 'db_down' }
    const by = ctx.operator.name
    const at = this.now()
    const text = note === null ? null : note.slice(0, 2000)
    let alert
    try {
      alert = await this.db.alert(alertId)
      if (!alert) return { ok: false, error: 'unknown_alert' }
      const r = await this.db.acknowledge(alertId, by, at, text)
      if (r === 'already') return { ok: false, error: 'already_acknowledged' }
      if (r === 'unknown') return { ok: false, error: 'unknown_alert' }
      await this.db.addAudit({ at, who: by, action: 'ack', target: alertId, detail: text, from: ctx.from })
    } catch (e) {
      this.writer.reportFailure(e as Error)
      return { ok: false, error: 'db_down' }
    }
    this.ownAcks.add(alertId)
    this.live.publish({ type: 'ack', id: alertId, by, at, note: text })
    this.sendAck(alert.site, alert.post, alertId, by, at)
    return { ok: true }
  }

  /**
   * A roll call's answers (`check_in`, `roll_call_missed`) are acknowledged by
   * the roll call itself once stored: they answer the station's own question
   * and the roll call view shows them. Left open, every post's gateway would
   * re-send each one after `ack_timeout_s` and raise an `escalation` (an
   * alarm-class row) for a volunteer who did check in: crying wolf, once per
   * post per roll call (docs/protocol.md §Roll call). Alarms are never
   * acknowledged this way.
   */
  async acknowledgeRollCallAnswer(a: { id: string; site: string; post: string; kind: string }): Promise<boolean> {
    if (a.kind !== 'check_in' && a.kind !== 'roll_call_missed') return false
    const at = this.now()
    try {
      if ((await this.db.acknowledge(a.id, ROLL_CALL_ACKER, at, null)) !== 'acked') return false
      await this.db.addAudit({ at, who: ROLL_CALL_ACKER, action: 'ack', target: a.id, detail: a.kind, from: null })
    } catch (e) {
      this.writer.reportFailure(e as Error)
      return false
    }
    this.ownAcks.add(a.id)
    this.live.publish({ type: 'ack', id: a.id, by: ROLL_CALL_ACKER, at, note: null })
    this.sendAck(a.site, a.post, a.id, ROLL_CALL_ACKER, at)
    return true
  }

  /** Publishes the contract's ack; a broker that is down now gets it again on the gateway's resend (see resendAck). */
  sendAck(site: string, post: string, id: string, by: string, at: number): void {
    let t: PostTopics
    try { t = new PostTopics(site, post) } catch { return }
    this.broker.publish(t.ack, JSON.stringify({ id, by, at }), { qos: 1 }).catch(() => {})
  }

  /** A gateway resent an alert that is already acknowledged (it missed our ack): send the stored ack again. */
  async resendAck(id: string): Promise<void> {
    const a = await this.db.alert(id).catch(() => null)
    if (a && a.ackBy && a.ackAt !== null) this.sendAck(a.site, a.post, a.id, a.ackBy, a.ackAt)
  }

  async startRollCall(ctx: ActionContext, scope: { site: string | null; group: string | null }, deadlineS: number): Promise<{ ok: true; id: string } | { ok: false; error: string }> {
    if (!this.writer.dbOk) return { ok: false, error: 'db_down' }
    if (!Number.isFinite(deadlineS) || deadlineS < 5 || deadlineS > 3600) return { ok: false, error: 'bad_deadline' }
    try {
      const r = await this.rollCalls.start(ctx.operator.name, scope, deadlineS)
      await this.db.addAudit({ at: this.now(), who: ctx.operator.name, action: 'roll-call', target: r.id, detail: JSON.stringify({ scope, deadlineS, posts: r.posts }), from: ctx.from })
      return { ok: true, id: r.id }
    } catch (e) {
      const msg = (e as Error).message
      if (msg === 'no_posts') return { ok: false, error: 'no_posts' }
      this.writer.reportFailure(e as Error)
      return { ok: false, error: 'db_down' }
    }
  }

  async command(ctx: ActionContext, site: string, post: string, name: string, args: Record<string, unknown>): Promise<{ ok: true; result: unknown } | { ok: false; error: string }> {
    const at = this.now()
    try {
      await this.db.addAudit({ at, who: ctx.operator.name, action: `command:${name}`, target: `${site}/${post}`, detail: JSON.stringify(args).slice(0, 1000), from: ctx.from })
    } catch (e) {
      // An unaudited command is refused like an ack: the audit log must say who did it.
      this.writer.reportFailure(e as Error)
      return { ok: false, error: 'db_down' }
    }
    return this.commands.send(site, post, name, ctx.operator.name, args)
  }
}
