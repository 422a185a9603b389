/**
 * What a walk test checks (issue 7 §3): every configured device. A button or
 * whistle passes with its first alarm-type alert marked `test` (the gateway
 * marks every alert so in walk-test mode); the lamp box passes when the
 * technician confirms its test pattern. Trouble alerts (wire_cut, missing,
 * low_battery, …) do not pass a device; they are kept as notes. Alerts are
 * delivered at least once, so repeats of a passed device change nothing.
 * A check-in device (role: check_in, issue 15) raises nothing outside a roll call,
 * so it is listed as skipped with a note: a station roll call tests it.
 */
import { PRESS_ALERT_KINDS } from '../../protocols/event-kinds.js'

export type CheckResult = 'pending' | 'pass' | 'fail' | 'skipped'

export interface CheckItem {
  id: string
  kind: 'panic-button' | 'ble-whistle' | 'lamp-box'
  label: string
  location: string
  check: 'alert' | 'lamp_test'
  result: CheckResult
  triggered_at: number | null
  alert_kind: string | null
  alert_id: string | null
  alert_rssi: number | null
  troubles: string[]
  note: string | null
}

export interface DeviceSnapshot { status: string | null; battery: number | null; rssi: number | null; faults: string[] }

export type AlertOutcome =
  | { type: 'passed'; item: CheckItem }
  | { type: 'repeat' }
  | { type: 'not-test'; item: CheckItem; kind: string }
  | { type: 'trouble'; item: CheckItem; kind: string }
  | { type: 'ignored' }

const PASS_KINDS: ReadonlySet<string> = new Set(PRESS_ALERT_KINDS)
const CHECK_IN_NOTE = 'check-in device (role: check_in): a press raises nothing outside a roll call; test it with a roll call from the station (docs/protocol.md §Roll call)'

export class Checklist {
  readonly items: CheckItem[]
  readonly states = new Map<string, DeviceSnapshot>()

  constructor(devices: readonly { id: string; kind: CheckItem['kind']; label: string; location: string; role?: string }[]) {
    this.items = devices.map((d) => {
      const checkIn = d.role === 'check_in'
      return {
        id: d.id, kind: d.kind, label: d.label, location: d.location,
        check: d.kind === 'lamp-box' ? 'lamp_test' : 'alert',
        result: checkIn ? 'skipped' : 'pending', triggered_at: null, alert_kind: null, alert_id: null, alert_rssi: null, troubles: [],
        note: checkIn ? CHECK_IN_NOTE : null,
      }
    })
  }

  get(id: string): CheckItem | undefined {
    return this.items.find((i) => i.id === id)
  }

  /** An alert payload from `<post>/alert/<device>`. */
  onAlert(payload: Buffer): AlertOutcome {
    const a = parse(payload)
    if (!a || typeof a.device !== 'string' || typeof a.kind !== 'string') return { type: 'ignored' }
    const item = this.get(a.device)
    if (!item || item.check !== 'alert') return { type: 'ignored' }
    if (a.kind === 'check_in') return { type: 'ignored' } // a roll call answer, neither a test press nor trouble
    if (!PASS_KINDS.has(a.kind)) {
      if (a.kind !== 'restored') item.troubles.push(a.kind)
      return { type: 'trouble', item, kind: a.kind }
    }
    if (item.result === 'pass') return { type: 'repeat' }
    if (item.result !== 'pending') return { type: 'ignored' } // the test is over for it
    // A real alert during the test (the gateway left walk-test mode) is not a test result.
    if (a.test !== true) return { type: 'not-test', item, kind: a.kind }
    item.result = 'pass'
    item.triggered_at = typeof a.hw_time === 'number' ? a.hw_time : Date.now()
    item.alert_kind = a.kind
    item.alert_id = typeof a.id === 'string' ? a.id : null
    item.alert_rssi = typeof a.rssi === 'number' ? Math.round(a.rssi) : null
    return { type: 'passed', item }
  }

  /** A retained device state from `<post>/device/<id>/state` (battery, RSSI, faults for the report). */
  onDeviceState(id: string, payload: Buffer): void {
    const s = parse(payload)
    if (!s) return
    const n = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
    this.states.set(id, {
      status: typeof s.status === 'string' ? s.status : null,
      battery: n(s.battery),
      rssi: n(s.rssi),
      faults: Array.isArray(s.faults) ? s.faults.filter((f): f is string => typeof f === 'string') : [],
    })
  }

  /** Alert-checked devices still waiting for their trigger. */
  waiting(): CheckItem[] {
    return this.items.filter((i) => i.check === 'alert' && i.result === 'pending')
  }

  done(): boolean {
    return this.items.every((i) => i.result !== 'pending')
  }

  /** The test ended: whatever is still pending failed. */
  finish(why: string): void {
    for (const i of this.items) {
      if (i.result !== 'pending') continue
      i.result = 'fail'
      i.note = i.check === 'alert' ? `no test alert ${why}` : `lamp box not confirmed ${why}`
    }
  }

  counts(): { passed: number; failed: number; skipped: number } {
    const c = { passed: 0, failed: 0, skipped: 0 }
    for (const i of this.items) {
      if (i.result === 'pass') c.passed++
      else if (i.result === 'fail') c.failed++
      else if (i.result === 'skipped') c.skipped++
    }
    return c
  }
}

function parse(payload: Buffer): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(payload.toString('utf8'))
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}
