/**
 * The walk test's checklist and report (provisioning/walk-test/): what passes
 * a device, what does not, and that the report matches its schema.
 */
import t from 'tap'
import { Checklist } from '../../../provisioning/walk-test/checklist.js'
import { buildReport, formatLeft, reportMarkdown } from '../../../provisioning/walk-test/report.js'
import { checkPayload } from '../../../protocols/mqtt/schemas.js'

const alert = (device: string, kind: string, test = true, o: Record<string, unknown> = {}): Buffer =>
  Buffer.from(JSON.stringify({ v: 1, id: `s:p:${Math.floor(Math.random() * 1e6)}`, device, kind, test, hw_time: 1_000, rssi: null, ...o }))

function list(): Checklist {
  return new Checklist([
    { id: 'btn', kind: 'panic-button', label: 'Counter | left', location: 'under the counter' },
    { id: 'whistle', kind: 'ble-whistle', label: '', location: '' },
    { id: 'lamp', kind: 'lamp-box', label: 'Lamp', location: 'roof' },
  ])
}

t.test('a test alarm passes a device once; trouble, real and foreign alerts do not', async (t) => {
  const l = list()
  t.match(l.onAlert(alert('btn', 'wire_cut')), { type: 'trouble', kind: 'wire_cut' })
  t.match(l.onAlert(alert('btn', 'restored')), { type: 'trouble' })
  t.match(l.onAlert(alert('btn', 'panic', false)), { type: 'not-test', kind: 'panic' })
  t.equal(l.get('btn')?.result, 'pending')
  t.match(l.onAlert(alert('btn', 'panic', true, { hw_time: 1234, id: 's:p:7' })), { type: 'passed' })
  t.match(l.get('btn'), { result: 'pass', triggered_at: 1234, alert_kind: 'panic', alert_id: 's:p:7', troubles: ['wire_cut'] })
  t.match(l.onAlert(alert('btn', 'panic')), { type: 'repeat' }, 'at-least-once repeats change nothing')
  t.match(l.onAlert(alert('lamp', 'lamp_dark')), { type: 'ignored' }, 'the lamp box passes by the lamp test only')
  t.match(l.onAlert(alert('stranger', 'panic')), { type: 'ignored' })
  t.match(l.onAlert(Buffer.from('{nope')), { type: 'ignored' })
  t.match(l.onAlert(alert('whistle', 'sos', true, { rssi: -71.4 })), { type: 'passed', item: { alert_rssi: -71 } })
  t.equal(l.done(), false, 'the lamp is still pending')
  t.same(l.waiting().map((i) => i.id), [])
})

t.test('a check-in device (issue 15) is skipped with a note, and does not keep the test open', async (t) => {
  const l = new Checklist([
    { id: 'btn', kind: 'panic-button', label: '', location: '' },
    { id: 'check-in', kind: 'panic-button', label: '', location: '', role: 'check_in' },
  ])
  t.match(l.get('check-in'), { result: 'skipped', note: /roll call/ })
  t.same(l.waiting().map((i) => i.id), ['btn'])
  t.match(l.onAlert(alert('check-in', 'check_in')), { type: 'ignored' }, 'a check_in (a roll call during the test) neither passes it nor is trouble')
  t.match(l.get('check-in'), { result: 'skipped', troubles: [] })
  l.onAlert(alert('btn', 'panic'))
  t.equal(l.done(), true)
  t.match(l.counts(), { passed: 1, failed: 0, skipped: 1 })
})

t.test('finish fails what is pending; the report validates and renders', async (t) => {
  const l = list()
  l.onAlert(alert('btn', 'panic'))
  l.onDeviceState('btn', Buffer.from(JSON.stringify({ status: 'online', battery: null, rssi: null, faults: ['low_battery'] })))
  l.onDeviceState('whistle', Buffer.from(JSON.stringify({ status: 'online', battery: 80, rssi: -66, faults: [] })))
  const lamp = l.get('lamp')
  if (lamp) lamp.result = 'skipped'
  l.finish('within 30 min')
  const r = buildReport({ site: 's', post: 'p', technician: 'tech-1', started_at: 0, ended_at: 60_000, ended_by: 'time_limit', time_limit_s: 1800 }, l)
  const v = checkPayload('walkTestReport', JSON.stringify(r))
  t.ok(v.ok, v.ok ? 'schema-valid' : v.error)
  t.match(r, { result: 'fail', summary: { passed: 1, failed: 1, skipped: 1 } })
  t.match(r.devices[0], { id: 'btn', result: 'pass', faults: ['low_battery'], status: 'online' })
  t.match(r.devices[1], { id: 'whistle', result: 'fail', note: 'no test alert within 30 min', rssi: -66, battery: 80 })
  const md = reportMarkdown(r)
  t.match(md, /\*\*Result: FAIL\*\* — 1 passed, 1 failed, 1 skipped/)
  t.match(md, /\| btn \| panic-button \| Counter \\\| left \|/, 'a "|" in a label does not break the table')
  t.match(md, /time limit reached/)
  t.equal(formatLeft(1_799_001), '30:00')
  t.equal(formatLeft(-5), '0:00')
})
