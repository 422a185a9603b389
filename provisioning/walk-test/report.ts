/**
 * The commissioning report of a walk test (protocols/mqtt/schemas/
 * walk-test-report.schema.json): built from the checklist and the retained
 * device states, written as JSON (for tools) and Markdown (for people) with
 * atomic writes, so a laptop dying mid-write leaves no half report.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomic } from '../../gateway/config/atomic-file.js'
import type { Checklist } from './checklist.js'

export interface WalkTestReport {
  v: 1
  site: string
  post: string
  post_type?: 'safety_house' | 'lookout'
  technician: string
  started_at: number
  ended_at: number
  ended_by: 'all_passed' | 'time_limit' | 'interrupted'
  time_limit_s: number
  result: 'pass' | 'fail'
  summary: { passed: number; failed: number; skipped: number }
  devices: ReportDevice[]
}

export interface ReportDevice {
  id: string
  kind: 'panic-button' | 'ble-whistle' | 'lamp-box'
  label: string
  location: string
  check: 'alert' | 'lamp_test'
  result: 'pass' | 'fail' | 'skipped'
  triggered_at: number | null
  alert_kind: string | null
  alert_id: string | null
  rssi: number | null
  battery: number | null
  status: string | null
  faults: string[]
  note?: string
}

export type ReportMeta = Pick<WalkTestReport, 'site' | 'post' | 'post_type' | 'technician' | 'started_at' | 'ended_at' | 'ended_by' | 'time_limit_s'>

/** Call after checklist.finish(): no device is pending any more. */
export function buildReport(meta: ReportMeta, list: Checklist): WalkTestReport {
  const cut = (s: string, n: number): string => (s.length > n ? s.slice(0, n - 1) + '…' : s)
  const devices = list.items.map((i): ReportDevice => {
    const s = list.states.get(i.id)
    const notes = [i.note, i.troubles.length ? `reported during the test: ${[...new Set(i.troubles)].join(', ')}` : null].filter((x): x is string => !!x)
    return {
      id: i.id,
      kind: i.kind,
      label: cut(i.label, 200),
      location: cut(i.location, 200),
      check: i.check,
      result: i.result === 'pending' ? 'fail' : i.result,
      triggered_at: i.triggered_at,
      alert_kind: i.alert_kind,
      alert_id: i.alert_id,
      rssi: i.alert_rssi ?? (s?.rssi !== null && s?.rssi !== undefined ? Math.round(s.rssi) : null),
      battery: s?.battery ?? null,
      status: s?.status ?? null,
      faults: (s?.faults ?? []).slice(0, 32),
      ...(notes.length ? { note: cut(notes.join('; '), 300) } : {}),
    }
  })
  const summary = list.counts()
  return { v: 1, ...meta, result: summary.failed === 0 ? 'pass' : 'fail', summary, devices }
}

const ENDED: Record<WalkTestReport['ended_by'], string> = {
  all_passed: 'every device passed',
  time_limit: 'time limit reached',
  interrupted: 'stopped by the technician',
}

export function reportMarkdown(r: WalkTestReport): string {
  const cell = (s: string | number | null | undefined): string => (s === null || s === undefined || s === '' ? '–' : String(s).replace(/\|/g, '\\|').replace(/\n/g, ' '))
  const lines = [
    `# Walk test: ${r.site}/${r.post}`,
    '',
    `- **Result: ${r.result.toUpperCase()}** — ${r.summary.passed} passed, ${r.summary.failed} failed, ${r.summary.skipped} skipped`,
    `- Technician: ${cell(r.technician)}`,
    `- Started ${localTime(r.started_at)}, ended ${localTime(r.ended_at)} (${ENDED[r.ended_by]}); time limit ${formatDuration(r.time_limit_s * 1000)}`,
    '',
    '| device | kind | label | location | check | result | triggered | alert | RSSI | battery | status / faults | note |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const d of r.devices) {
    lines.push(`| ${[
      d.id, d.kind, cell(d.label), cell(d.location), d.check === 'lamp_test' ? 'lamp test' : 'test alert', `**${d.result.toUpperCase()}**`,
      d.triggered_at === null ? '–' : localTime(d.triggered_at), cell(d.alert_kind),
      d.rssi === null ? '–' : `${d.rssi} dBm`, d.battery === null ? '–' : `${Math.round(d.battery)} %`,
      cell([d.status, ...d.faults].filter(Boolean).join(', ')), cell(d.note),
    ].join(' | ')} |`)
  }
  lines.push('', `Published to the station on \`safehouse/v1/${r.site}/${r.post}/walk-test/report\` (retained).`, '')
  return lines.join('\n')
}

/** Write `<dir>/walk-test-<post>-<YYYYMMDD-HHMMSS>.{json,md}`; returns the two paths. */
export function writeReportFiles(dir: string, r: WalkTestReport): { json: string; md: string } {
  mkdirSync(dir, { recursive: true, mode: 0o750 })
  const base = join(dir, `walk-test-${r.post}-${fileStamp(r.started_at)}`)
  const files = { json: `${base}.json`, md: `${base}.md` }
  writeFileAtomic(files.json, JSON.stringify(r, null, 2) + '\n', 0o644)
  writeFileAtomic(files.md, reportMarkdown(r), 0o644)
  return files
}

const pad = (n: number): string => String(n).padStart(2, '0')

/** Local time with its UTC offset: "2026-11-24 16:00:05 +08:00" (technicians read local time; the offset keeps it unambiguous). */
export function localTime(ms: number): string {
  const d = new Date(ms)
  const off = -d.getTimezoneOffset()
  const sign = off >= 0 ? '+' : '-'
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${sign}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`
}

function fileStamp(ms: number): string {
  const d = new Date(ms)
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`
}

/** "30 min", "90 s", "1 h 30 min". */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 120) return `${s} s`
  const m = Math.round(s / 60)
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`
}

/** "29:05" left. */
export function formatLeft(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000))
  return `${Math.floor(s / 60)}:${pad(s % 60)}`
}
