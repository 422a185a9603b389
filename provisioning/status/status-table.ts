/**
 * The human view of `safehouse status`: one block per post (problems first,
 * as buildStatus sorted them), one line per device, a summary line. Rows with
 * a problem start with "!" so they stand out without colours (logs, e-mail).
 */
import { formatAgo, type DeviceRow, type PostRow, type StatusReport } from './post-status.js'

const HEAD = ['  DEVICE', 'KIND', 'STATUS', 'LAST SEEN', 'BATTERY', 'RSSI', 'WHERE', 'PROBLEMS / NOTES']

export function renderStatusTable(r: StatusReport): string {
  const out: string[] = []
  if (!r.posts.length) out.push(`no posts found on ${r.source.url}`)
  for (const p of r.posts) {
    out.push(postHeader(p, r.generated_at))
    for (const x of p.problems) out.push(`  ! ${x}`)
    for (const x of p.notes) out.push(`    ${x}`)
    if (p.devices.length) out.push(...table([HEAD, ...p.devices.map((d) => deviceCells(d, r.generated_at))]).map((l) => `  ${l}`))
    else out.push('    (no device states)')
    out.push('')
  }
  const s = r.summary
  const bad = s.posts_with_problems || s.devices_with_problems
    ? `problems: ${s.posts_with_problems} post(s), ${s.devices_with_problems} device(s)`
    : r.posts.length ? 'all fine' : 'nothing to check'
  out.push(`${s.posts} post(s), ${s.devices} device(s) — ${bad} (exit ${r.exit_code})`)
  return out.join('\n')
}

function postHeader(p: PostRow, now: number): string {
  const parts = [p.status === 'online' && p.since !== null ? `online since ${formatAgo(p.since, now)}` : p.status]
  if (p.version) parts.push(`v${p.version}`)
  if (p.mode) parts.push(p.mode === 'walk_test' ? 'WALK TEST' : p.mode)
  if (p.station) parts.push(`station ${p.station}`)
  if (p.outbox_depth !== null) parts.push(`outbox ${p.outbox_depth}`)
  if (p.open_alerts) parts.push(`${p.open_alerts} open alert(s)`)
  parts.push(`state ${formatAgo(p.state_time, now)}`)
  return `${p.problems.length ? '!' : ' '} ${p.site}/${p.post}  ${parts.join(' · ')}`
}

function deviceCells(d: DeviceRow, now: number): string[] {
  const where = [d.label, d.location].filter(Boolean).join(', ')
  return [
    `${d.problems.length ? '!' : ' '} ${d.id}`,
    d.kind ?? '?',
    d.status,
    formatAgo(d.last_seen, now),
    d.battery === null ? '–' : `${Math.round(d.battery)} %`,
    d.rssi === null ? '–' : `${d.rssi} dBm`,
    where.length > 32 ? `${where.slice(0, 31)}…` : where || '–',
    [...d.problems, ...d.notes].join('; '),
  ]
}

/** Columns padded to their widest cell; the last one is left ragged. */
function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd())
}
