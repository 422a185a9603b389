/**
 * buildStatus (provisioning/status/post-status.ts): which retained messages
 * make a problem (exit 3), which only a note, and the order maintainers see.
 */
import t from 'tap'
import { buildStatus, formatAgo } from '../../../provisioning/status/post-status.js'

const NOW = 1_800_000_000_000
const R = 'safehouse/v1/sh-huangpu'
const msg = (o: unknown): Buffer => Buffer.from(JSON.stringify(o))
const state = (o: Record<string, unknown> = {}) => msg({ v: 1, site: 'sh-huangpu', version: '0.1.0', time: NOW - 5000, mode: 'normal', station: 'connected', outbox: { depth: 0 }, open_alerts: [], ...o })
const device = (id: string, o: Record<string, unknown> = {}) => msg({ v: 1, device: id, device_kind: 'panic-button', status: 'online', last_seen: NOW - 1000, faults: [], counters: {}, ...o })
const station = { now: NOW, staleAfterMs: 180_000, source: { kind: 'station' as const, url: 'mqtt://station:1883' } }

t.test('station: offline, unknown and overdue posts are problems, sorted first', async (t) => {
  const m = new Map<string, Buffer>([
    [`${R}/fine/status`, msg({ v: 1, state: 'online', since: NOW - 60_000 })], [`${R}/fine/state`, state()],
    [`${R}/down/status`, msg({ v: 1, state: 'offline' })], [`${R}/down/state`, state({ time: NOW - 3_600_000 })],
    [`${R}/silent/status`, msg({ v: 1, state: 'online' })], [`${R}/silent/state`, state({ time: NOW - 600_000 })],
    [`${R}/nostatus/state`, state()],
    [`${R}/busy/status`, msg({ v: 1, state: 'online' })], [`${R}/busy/state`, state({ mode: 'walk_test' })],
    [`${R}/disk/status`, msg({ v: 1, state: 'online' })], [`${R}/disk/state`, state({ outbox_problem: 'disk full (ENOSPC)' })],
    [`${R}/group/unit-1/alert`, msg({})],
  ])
  const r = buildStatus(m, station)
  t.same(r.posts.map((p) => p.post), ['down', 'nostatus', 'silent', 'disk', 'busy', 'fine'])
  const by = Object.fromEntries(r.posts.map((p) => [p.post, p]))
  t.match(by.down.problems, [/^offline/])
  t.notOk(by.down.problems.some((p) => p.startsWith('overdue')), 'an offline post is not also called overdue')
  t.match(by.nostatus, { status: 'unknown', problems: [/no status message/] })
  t.match(by.silent.problems, [/^overdue: its state was last published 10 min ago \(limit 180 s\)/])
  t.match(by.disk.problems, ['outbox: disk full (ENOSPC)'])
  t.match(by.busy, { problems: [], notes: [/walk test running/] })
  t.match(by.fine, { status: 'online', since: NOW - 60_000, version: '0.1.0', station: 'connected', outbox_depth: 0, open_alerts: 0, problems: [] })
  t.match(r, { ok: false, exit_code: 3, summary: { posts: 6, posts_with_problems: 4 } })
})

t.test('devices: problems by status and fault, notes for starting; problem devices first', async (t) => {
  const P = `${R}/kiosk-017`
  const m = new Map<string, Buffer>([
    [`${P}/status`, msg({ v: 1, state: 'online' })], [`${P}/state`, state()],
    [`${P}/device/a-ok/state`, device('a-ok')],
    [`${P}/device/b-new/state`, device('b-new', { status: 'starting', last_seen: null })],
    [`${P}/device/c-loop/state`, device('c-loop', { faults: ['wire_cut'] })],
    [`${P}/device/d-gone/state`, device('d-gone', { status: 'missing', status_reason: 'no heartbeat within the supervision interval', faults: ['missing', 'low_battery'] })],
    [`${P}/device/e-board/state`, device('e-board', { status: 'fault', status_reason: 'serial port /dev/ttyUSB0 vanished' })],
    [`${P}/device/f-junk/state`, Buffer.from('not json')],
  ])
  const r = buildStatus(m, station)
  const devs = r.posts[0].devices
  t.same(devs.map((d) => d.id), ['d-gone', 'e-board', 'f-junk', 'c-loop', 'b-new', 'a-ok'])
  t.same(devs[0].problems, ['missing: no heartbeat within the supervision interval', 'low_battery'], '"missing" is not repeated as a fault')
  t.same(devs[1].problems, ['fault: serial port /dev/ttyUSB0 vanished'])
  t.same(devs[2].problems, ['unreadable device state message'])
  t.same(devs[3].problems, ['wire_cut'])
  t.match(devs[4], { problems: [], notes: ['not heard from since the gateway started'] })
  t.match(r, { exit_code: 3, summary: { devices: 6, devices_with_problems: 4, posts_with_problems: 0 } })

  const fine = buildStatus(new Map([[`${P}/status`, msg({ v: 1, state: 'online' })], [`${P}/state`, state()], [`${P}/device/b-new/state`, device('b-new', { status: 'starting', last_seen: null })]]), station)
  t.match(fine, { ok: true, exit_code: 0 }, 'a device not heard yet is a note, not a problem')
})

t.test('local: configured devices are expected; the post is online when its broker answers', async (t) => {
  const P = `${R}/kiosk-017`
  const m = new Map<string, Buffer>([[`${P}/state`, state({ station: 'disconnected' })], [`${P}/device/btn/state`, device('btn', { label: 'Counter' })], [`${P}/device/old/state`, device('old')]])
  const r = buildStatus(m, {
    now: NOW, staleAfterMs: 180_000, source: { kind: 'local', url: 'mqtt://127.0.0.1:1883' },
    expected: { site: 'sh-huangpu', post: 'kiosk-017', file: 'c.yaml', devices: [{ id: 'btn', kind: 'panic-button', label: '', location: '' }, { id: 'door', kind: 'panic-button', label: 'Back door', location: 'yard' }] },
  })
  const p = r.posts[0]
  t.match(p, { status: 'online', problems: [/^station link disconnected/] })
  t.same(p.devices.map((d) => d.id), ['door', 'btn', 'old'])
  t.match(p.devices[0], { status: 'unknown', kind: 'panic-button', label: 'Back door', location: 'yard', problems: [/no state published/] })
  t.match(p.devices[1], { label: 'Counter', problems: [] })
  t.match(p.devices[2], { notes: ['not in c.yaml'], problems: [] })

  const empty = buildStatus(new Map(), { ...station, source: { kind: 'local', url: 'x' }, expected: { site: 's', post: 'p', file: 'c.yaml', devices: [] } })
  t.match(empty.posts[0].problems, [/no gateway state on the embedded broker yet/])
  t.match(buildStatus(new Map(), station), { ok: false, exit_code: 3, posts: [] }, 'nothing found is not fine')
})

t.test('formatAgo', async (t) => {
  const cases: Array<[number | null, string]> = [[null, 'never'], [NOW, 'just now'], [NOW + 2000, 'just now'], [NOW + 60_000, 'in the future'],
    [NOW - 12_000, '12 s ago'], [NOW - 119_000, '119 s ago'], [NOW - 180_000, '3 min ago'], [NOW - 3 * 3_600_000, '3 h ago'], [NOW - 5 * 86_400_000, '5 d ago']]
  for (const [at, want] of cases) t.equal(formatAgo(at, NOW), want, want)
})
