/**
 * One station message -> one store operation, or the reason it is rejected
 * (issue 15 bad input): schema (protocols/mqtt/schemas.ts), and the site /
 * post / device the payload names must be the ones its topic names. Pure.
 */
import { checkPayload } from '../../protocols/mqtt/schemas.js'
import type { AlertInsert } from '../store/station-db.js'
import { classify } from '../store/alert-class.js'
import type { ParsedTopic } from './topic-parse.js'

export type IngestOp =
  | { op: 'alert'; site: string; post: string; alert: AlertInsert }
  | { op: 'status'; site: string; post: string; online: boolean; since: number | null }
  | { op: 'path-status'; site: string; post: string; path: string; online: boolean }
  | { op: 'state'; site: string; post: string; state: Record<string, unknown> }
  | { op: 'device'; site: string; post: string; device: string; state: Record<string, unknown> }
  | { op: 'test-report'; site: string; post: string; intervalS: number; outboxDepth: number }
  | { op: 'walk-test-report'; site: string; post: string; report: Record<string, unknown> }

export type CheckResult = { ok: true; op: IngestOp } | { ok: false; counter: string; reason: string }

type Obj = Record<string, unknown>

const mismatch = (what: string, got: unknown, want: string): CheckResult => ({
  ok: false, counter: 'rejected_topic_mismatch', reason: `payload ${what} "${String(got)}" differs from the topic's "${want}"`,
})

export function checkMessage(t: ParsedTopic, payload: Buffer, receivedAt: number): CheckResult {
  const { site, post } = t
  const schema = { status: 'status', 'path-status': 'status', state: 'gatewayState', alert: 'alert', 'device-state': 'deviceState', 'test-report': 'testReport', 'walk-test-report': 'walkTestReport' } as const
  const r = checkPayload<Obj>(schema[t.what], payload)
  if (!r.ok) return { ok: false, counter: 'rejected_schema', reason: `${schema[t.what]} schema: ${r.error}`.slice(0, 500) }
  const v = r.value
  switch (t.what) {
    case 'status':
      return { ok: true, op: { op: 'status', site, post, online: v.state === 'online', since: typeof v.since === 'number' ? v.since : null } }
    case 'path-status':
      if (v.path !== t.device) return mismatch('path', v.path, t.device as string)
      return { ok: true, op: { op: 'path-status', site, post, path: t.device as string, online: v.state === 'online' } }
    case 'state':
      if (v.site !== site) return mismatch('site', v.site, site)
      if (v.post !== post) return mismatch('post', v.post, post)
      return { ok: true, op: { op: 'state', site, post, state: v } }
    case 'device-state':
      if (v.device !== t.device) return mismatch('device', v.device, t.device as string)
      return { ok: true, op: { op: 'device', site, post, device: t.device as string, state: v } }
    case 'test-report':
      if (v.post !== post) return mismatch('post', v.post, post)
      return { ok: true, op: { op: 'test-report', site, post, intervalS: v.interval_s as number, outboxDepth: v.outbox_depth as number } }
    case 'walk-test-report':
      if (v.site !== site) return mismatch('site', v.site, site)
      if (v.post !== post) return mismatch('post', v.post, post)
      return { ok: true, op: { op: 'walk-test-report', site, post, report: v } }
    case 'alert': {
      if (v.site !== site) return mismatch('site', v.site, site)
      if (v.post !== post) return mismatch('post', v.post, post)
      if (v.device !== t.device) return mismatch('device', v.device, t.device as string)
      const id = v.id as string
      if (!id.startsWith(`${site}:${post}:`)) return { ok: false, counter: 'rejected_topic_mismatch', reason: `alert id "${id}" is not <site>:<post>:<seq> of ${site}/${post}` }
      const kind = v.kind as string
      const test = v.test === true
      const str = (x: unknown) => (typeof x === 'string' ? x : null)
      const num = (x: unknown) => (typeof x === 'number' ? x : null)
      return { ok: true, op: { op: 'alert', site, post, alert: {
        id, site, post, device: t.device as string, deviceKind: v.device_kind as string, label: str(v.label), location: str(v.location),
        kind, ...classify(kind, test), value: num(v.value), rssi: num(v.rssi), test, originPost: str(v.origin_post),
        hwTime: v.hw_time as number, sentTime: v.sent_time as number, receivedAt, payload: payload.toString('utf8'),
      } } }
    }
  }
}

/** The first bytes of a payload as text for the rejected view (never parsed or executed). */
export function excerpt(payload: Buffer, max = 300): string {
  return payload.subarray(0, max).toString('utf8') + (payload.length > max ? ` … (${payload.length} bytes)` : '')
}
