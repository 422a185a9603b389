/** A roll call as CSV (RFC 4180; a leading =,+,-,@ is quoted with ' so a spreadsheet never runs it). */
import type { RollCallRow } from '../station-api.js'

function cell(v: string | number | null): string {
  let s = v === null ? '' : String(v)
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

export function rollCallCsv(rc: RollCallRow, time: (ms: number) => string = (ms) => new Date(ms).toISOString()): string {
  const lines = [['roll_call', 'started_at', 'deadline', 'by', 'site', 'post', 'state', 'answered_by', 'answered_at', 'delay_s'].join(',')]
  for (const e of rc.entries) {
    lines.push([rc.id, time(rc.startedAt), time(rc.deadline), rc.by, e.site, e.post, e.state, e.answeredBy, e.answeredAt === null ? null : time(e.answeredAt), e.delayMs === null ? null : (e.delayMs / 1000).toFixed(1)].map(cell).join(','))
  }
  return lines.join('\r\n') + '\r\n'
}
