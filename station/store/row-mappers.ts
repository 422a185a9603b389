/** Database rows -> station-api rows, the same for both engines (pg returns BIGINT as text). */
import type { AlertRow, AuditRow, DeviceRow, Operator, PostRow, RejectedRow, Role, Lang, AlertClass } from '../station-api.js'
import type { SqlRow } from './sql-db.js'

const num = (v: unknown): number => Number(v)
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v))
function json(v: unknown): Record<string, unknown> | null {
  if (typeof v !== 'string') return null
  try {
    return JSON.parse(v) as Record<string, unknown>
  } catch {
    return null
  }
}

export function toAlert(r: SqlRow): AlertRow {
  return {
    id: String(r.id), site: String(r.site), post: String(r.post), device: String(r.device), deviceKind: String(r.device_kind),
    label: strOrNull(r.label), location: strOrNull(r.location), kind: String(r.kind), cls: r.cls as AlertClass, priority: num(r.priority),
    value: numOrNull(r.value), rssi: numOrNull(r.rssi), test: num(r.test) === 1, originPost: strOrNull(r.origin_post),
    hwTime: num(r.hw_time), sentTime: num(r.sent_time), receivedAt: num(r.received_at),
    ackBy: strOrNull(r.ack_by), ackAt: numOrNull(r.ack_at), ackNote: strOrNull(r.ack_note), payload: String(r.payload),
  }
}

export function toPost(r: SqlRow, now: number, graceS: number): PostRow {
  const interval = num(r.test_interval_s) || 60
  const lastReport = numOrNull(r.last_test_report_at)
  return {
    site: String(r.site), post: String(r.post), postType: strOrNull(r.post_type), group: strOrNull(r.grp),
    online: num(r.online) === 1, statusSince: numOrNull(r.status_since), lastStateAt: numOrNull(r.last_state_at),
    lastTestReportAt: lastReport, testIntervalS: interval,
    // A post that never sent a report (test reports switched off) is not overdue; one whose reports stop is.
    testOverdue: lastReport !== null && now - lastReport > (interval + graceS) * 1000,
    devicesMissing: num(r.d_missing ?? 0), lowBattery: num(r.d_low ?? 0), tamper: num(r.d_tamper ?? 0), mainsLost: num(r.d_mains ?? 0),
    outboxDepth: numOrNull(r.outbox_depth), state: json(r.state), walkTestReport: json(r.walk_test_report),
  }
}

export function toDevice(r: SqlRow): DeviceRow {
  return {
    site: String(r.site), post: String(r.post), device: String(r.device), kind: strOrNull(r.kind), label: strOrNull(r.label),
    location: strOrNull(r.location), state: json(r.state) ?? {}, updatedAt: num(r.updated_at),
  }
}

export const toRejected = (r: SqlRow): RejectedRow => ({ id: num(r.id), at: num(r.at), topic: String(r.topic), reason: String(r.reason), excerpt: String(r.excerpt) })

export const toAudit = (r: SqlRow): AuditRow => ({
  id: num(r.id), at: num(r.at), who: String(r.who), action: String(r.action), target: strOrNull(r.target), detail: strOrNull(r.detail), from: strOrNull(r.from_addr),
})

export const toOperator = (r: SqlRow): Operator => ({ name: String(r.name), role: r.role as Role, lang: (r.lang ?? null) as Lang | null })
