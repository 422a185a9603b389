/**
 * Turns the retained messages of one or many posts (…/status, …/state,
 * …/device/<id>/state; docs/protocol.md) into rows for `safehouse status`,
 * each with the problems that make the command exit 3 and the notes that do
 * not. The rules, which docs/operations.md "Reading safehouse status" lists:
 *
 *   post   problem: status offline; no status (station) or no state; state
 *          older than the stale limit (overdue); station link down (local:
 *          connecting/disconnected); outbox_problem set; BLE scanner
 *          fault/offline or with an active fault (gateway_trouble).
 *          note:    walk-test mode.
 *   device problem: status missing, fault or offline; any active fault;
 *          configured (local) but no state published.
 *          note:    starting (not heard from since the gateway started);
 *          state for a device the config does not list.
 *
 * Payloads are read leniently (known fields, type-checked): a newer gateway
 * adding fields must not break an older maintainer's tool.
 */
import { PROTOCOL_ROOT } from '../../protocols/mqtt/topics.js'

export interface ExpectedPost {
  site: string
  post: string
  file: string
  devices: readonly { id: string; kind: string; label: string; location: string }[]
}

export interface DeviceRow {
  id: string
  kind: string | null
  label: string
  location: string
  status: string
  status_reason: string | null
  last_seen: number | null
  battery: number | null
  rssi: number | null
  faults: string[]
  problems: string[]
  notes: string[]
}

export interface PostRow {
  site: string
  post: string
  status: 'online' | 'offline' | 'unknown'
  since: number | null
  version: string | null
  state_time: number | null
  mode: string | null
  station: string | null
  outbox_depth: number | null
  outbox_problem: string | null
  open_alerts: number | null
  problems: string[]
  notes: string[]
  devices: DeviceRow[]
}

export interface StatusReport {
  v: 1
  generated_at: number
  source: { kind: 'local' | 'station'; url: string }
  ok: boolean
  exit_code: 0 | 3
  summary: { posts: number; posts_with_problems: number; devices: number; devices_with_problems: number }
  posts: PostRow[]
}

export interface BuildOptions {
  now: number
  staleAfterMs: number
  source: StatusReport['source']
  /** Local mode: the post the config describes (its devices are expected even when silent). */
  expected?: ExpectedPost
}

type Json = Record<string, unknown>

const PREFIX = `${PROTOCOL_ROOT}/`

export function buildStatus(messages: ReadonlyMap<string, Buffer>, o: BuildOptions): StatusReport {
  const posts = new Map<string, { site: string; post: string; status?: Json | null; state?: Json | null; devices: Map<string, Json | null> }>()
  const postOf = (site: string, post: string) => {
    const key = `${site}/${post}`
    let p = posts.get(key)
    if (!p) posts.set(key, (p = { site, post, devices: new Map() }))
    return p
  }
  if (o.expected) postOf(o.expected.site, o.expected.post)
  for (const [topic, payload] of messages) {
    if (!topic.startsWith(PREFIX)) continue
    const [site, post, ...rest] = topic.slice(PREFIX.length).split('/')
    if (!site || !post || post === 'group') continue
    const body = parse(payload)
    if (rest.length === 1 && rest[0] === 'status') postOf(site, post).status = body
    else if (rest.length === 1 && rest[0] === 'state') postOf(site, post).state = body
    else if (rest.length === 3 && rest[0] === 'device' && rest[2] === 'state') postOf(site, post).devices.set(rest[1], body)
  }
  const rows = [...posts.values()].map((p) => postRow(p, o))
  rows.sort((a, b) => postRank(a) - postRank(b) || a.site.localeCompare(b.site) || a.post.localeCompare(b.post))
  const devices = rows.flatMap((r) => r.devices)
  const summary = {
    posts: rows.length,
    posts_with_problems: rows.filter((r) => r.problems.length > 0).length,
    devices: devices.length,
    devices_with_problems: devices.filter((d) => d.problems.length > 0).length,
  }
  const ok = rows.length > 0 && summary.posts_with_problems === 0 && summary.devices_with_problems === 0
  return { v: 1, generated_at: o.now, source: o.source, ok, exit_code: ok ? 0 : 3, summary, posts: rows }
}

function postRow(p: { site: string; post: string; status?: Json | null; state?: Json | null; devices: Map<string, Json | null> }, o: BuildOptions): PostRow {
  const local = o.source.kind === 'local'
  const st = p.state ?? null
  const problems: string[] = []
  const notes: string[] = []
  let status: PostRow['status']
  // The embedded broker runs inside the gateway: reaching it means the gateway runs. The
  // status topic (and its Last Will) exists only at the station.
  if (local) status = 'online'
  else {
    const s = p.status ? str(p.status.state) : null
    status = s === 'online' || s === 'offline' ? s : 'unknown'
  }
  if (status === 'offline') problems.push('offline: the gateway stopped or lost its connection to the station (Last Will)')
  if (status === 'unknown') problems.push(p.status === null ? 'unreadable status message' : 'no status message: this post never connected to this broker, or the broker lost its retained messages')
  if (p.state === undefined) problems.push(local ? 'no gateway state on the embedded broker yet (the gateway is starting?)' : 'no gateway state on this broker')
  else if (st === null) problems.push('unreadable gateway state message')
  const stateTime = st ? num(st.time) : null
  if (stateTime !== null && status !== 'offline' && o.now - stateTime > o.staleAfterMs) {
    problems.push(`overdue: its state was last published ${formatAgo(stateTime, o.now)} (limit ${Math.round(o.staleAfterMs / 1000)} s): the gateway hangs or its network is down (or this computer's clock is wrong)`)
  }
  const station = st ? str(st.station) : null
  if (local && (station === 'disconnected' || station === 'connecting')) problems.push(`station link ${station}: alerts wait in the outbox (check the network and station.url)`)
  const outboxProblem = st ? str(st.outbox_problem) : null
  if (outboxProblem) problems.push(`outbox: ${outboxProblem}`)
  const ble = st && typeof st.ble === 'object' && st.ble !== null ? (st.ble as Json) : null
  if (ble) {
    const bs = str(ble.status)
    const why = str(ble.reason) ? `: ${str(ble.reason)}` : ''
    if (bs === 'fault' || bs === 'offline') problems.push(`BLE scanner ${bs}${why} (whistles and SOS buttons are not heard)`)
    if (Array.isArray(ble.faults)) for (const f of ble.faults) if (typeof f === 'string') problems.push(`BLE scanner: ${f}`)
  }
  const mode = st ? str(st.mode) : null
  if (mode === 'walk_test') notes.push('walk test running: its alerts are marked test')
  if (status === 'offline' && p.devices.size) notes.push('device values are the last ones known before it went offline')

  const devices: DeviceRow[] = []
  const expected = o.expected && o.expected.site === p.site && o.expected.post === p.post ? o.expected : undefined
  for (const e of expected?.devices ?? []) devices.push(deviceRow(e.id, p.devices.get(e.id), e, o.now))
  for (const [id, body] of p.devices) {
    if (expected?.devices.some((e) => e.id === id)) continue
    const row = deviceRow(id, body, undefined, o.now)
    if (expected) row.notes.push(`not in ${expected.file}`)
    devices.push(row)
  }
  devices.sort((a, b) => deviceRank(a) - deviceRank(b) || a.id.localeCompare(b.id))
  const ob = st && typeof st.outbox === 'object' && st.outbox !== null ? (st.outbox as Json) : null
  return {
    site: p.site,
    post: p.post,
    status,
    since: p.status ? num(p.status.since) : null,
    version: (st && str(st.version)) ?? (p.status ? str(p.status.version) : null),
    state_time: stateTime,
    mode,
    station,
    outbox_depth: ob ? num(ob.depth) : null,
    outbox_problem: outboxProblem,
    open_alerts: st && Array.isArray(st.open_alerts) ? st.open_alerts.length : null,
    problems,
    notes,
    devices,
  }
}

function deviceRow(id: string, body: Json | null | undefined, cfg: ExpectedPost['devices'][number] | undefined, now: number): DeviceRow {
  const row: DeviceRow = {
    id,
    kind: (body && str(body.device_kind)) ?? cfg?.kind ?? null,
    label: (body && str(body.label)) || cfg?.label || '',
    location: (body && str(body.location)) || cfg?.location || '',
    status: 'unknown',
    status_reason: null,
    last_seen: null,
    battery: null,
    rssi: null,
    faults: [],
    problems: [],
    notes: [],
  }
  if (body === undefined) {
    row.problems.push('no state published: the running gateway does not know this device (restart it after changing the config)')
    return row
  }
  if (body === null) {
    row.problems.push('unreadable device state message')
    return row
  }
  row.status = str(body.status) ?? 'unknown'
  row.status_reason = str(body.status_reason) || null
  row.last_seen = num(body.last_seen)
  row.battery = num(body.battery)
  row.rssi = num(body.rssi)
  row.faults = Array.isArray(body.faults) ? body.faults.filter((f): f is string => typeof f === 'string') : []
  const why = row.status_reason ? `: ${row.status_reason}` : ''
  if (row.status === 'missing' || row.status === 'fault' || row.status === 'offline') row.problems.push(`${row.status}${why}`)
  else if (row.status === 'starting') row.notes.push(row.last_seen === null ? 'not heard from since the gateway started' : `starting${why}`)
  else if (row.status !== 'online') row.problems.push(`unknown status "${row.status}"`)
  for (const f of row.faults) if (!(f === 'missing' && row.status === 'missing')) row.problems.push(f)
  if (row.last_seen !== null && row.last_seen > now + 60_000) row.notes.push('last seen in the future: check the clocks')
  return row
}

const DEVICE_ORDER: Record<string, number> = { missing: 0, offline: 1, fault: 2, unknown: 3 }

function deviceRank(d: DeviceRow): number {
  if (d.problems.length) return DEVICE_ORDER[d.status] ?? 4
  return d.status === 'starting' ? 5 : 6
}

function postRank(p: PostRow): number {
  if (p.status === 'offline') return 0
  if (p.status === 'unknown') return 1
  if (p.problems.some((x) => x.startsWith('overdue'))) return 2
  if (p.problems.length) return 3
  return p.devices.some((d) => d.problems.length) ? 4 : 5
}

/** "12 s ago", "3 min ago", "5 h ago", "2 d ago", "never". */
export function formatAgo(at: number | null, now: number): string {
  if (at === null) return 'never'
  const s = Math.round((now - at) / 1000)
  if (s < -5) return 'in the future'
  if (s <= 0) return 'just now'
  if (s < 120) return `${s} s ago`
  if (s < 7200) return `${Math.round(s / 60)} min ago`
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`
  return `${Math.round(s / 86_400)} d ago`
}

function parse(payload: Buffer): Json | null {
  try {
    const v: unknown = JSON.parse(payload.toString('utf8'))
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : null
  } catch {
    return null
  }
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}
