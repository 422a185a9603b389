/**
 * The alarm-industry codes for our alert kinds (issue 17 §2; table in
 * docs/dc09.md): a Contact ID event code (SIA DC-05) and an SIA event code
 * (SIA DC-03) for the alarm, and the SIA code for its restore (Contact ID
 * restores reuse the event code with qualifier 3). Keys are the station
 * contract's kind names (protocols/mqtt/schemas/alert.schema.json).
 * Overridable per kind in the config (dc09.mapping).
 */
export interface Dc09Code {
  /** Contact ID event code, 3 digits. */
  cid: string
  /** SIA event code for the alarm/trouble, 2 letters. */
  sia: string
  /** SIA event code for its restore, 2 letters, or null when the kind has no restore. */
  siaRestore: string | null
}

export const DEFAULT_DC09_CODES: Readonly<Record<string, Dc09Code>> = {
  panic: { cid: '120', sia: 'PA', siaRestore: 'PR' },
  silent_holdup: { cid: '122', sia: 'HA', siaRestore: 'HR' },
  duress: { cid: '121', sia: 'HA', siaRestore: 'HR' },
  whistle: { cid: '123', sia: 'PA', siaRestore: 'PR' },
  sos: { cid: '101', sia: 'QA', siaRestore: 'QR' },
  tamper: { cid: '137', sia: 'TA', siaRestore: 'TR' },
  wire_cut: { cid: '371', sia: 'UT', siaRestore: 'UJ' },
  wire_short: { cid: '372', sia: 'UT', siaRestore: 'UJ' },
  stuck: { cid: '380', sia: 'UT', siaRestore: 'UJ' },
  missing: { cid: '381', sia: 'UY', siaRestore: 'UJ' },
  low_battery: { cid: '384', sia: 'XT', siaRestore: 'XR' },
  mains_lost: { cid: '301', sia: 'AT', siaRestore: 'AR' },
  lamp_fault: { cid: '330', sia: 'ET', siaRestore: 'ER' },
  lamp_dark: { cid: '330', sia: 'ET', siaRestore: 'ER' },
  channel_fault: { cid: '330', sia: 'ET', siaRestore: 'ER' },
  device_fault: { cid: '333', sia: 'ET', siaRestore: 'ER' },
  door_open: { cid: '145', sia: 'TA', siaRestore: 'TR' },
  gateway_trouble: { cid: '300', sia: 'IA', siaRestore: 'IR' },
  escalation: { cid: '354', sia: 'YC', siaRestore: 'YK' },
  test: { cid: '601', sia: 'RX', siaRestore: null },
  test_report: { cid: '602', sia: 'RP', siaRestore: null },
  cancel: { cid: '406', sia: 'OC', siaRestore: null },
  check_in: { cid: '602', sia: 'RP', siaRestore: null },
  // Contact ID 350 "communication trouble"; SIA YC/YK communications fail/restoral (issue 16 §1).
  path_failure: { cid: '350', sia: 'YC', siaRestore: 'YK' },
}

/** The kinds a mapping override may name. */
export const DC09_KINDS: readonly string[] = Object.keys(DEFAULT_DC09_CODES)

export interface Dc09Event {
  code: Dc09Code
  restore: boolean
  /** Partition / area, 1-99. */
  partition: number
  /** Zone (our device index), 0-999. */
  zone: number
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0')

/** Contact ID data (DC-09 §5.5.1.6, DC-05): `#acct|QEEE GG CCC` (Q 1 = new, 3 = restore). */
export function contactIdData(account: string, e: Dc09Event): string {
  return `#${account}|${e.restore ? '3' : '1'}${e.code.cid} ${pad(e.partition, 2)} ${pad(e.zone, 3)}`
}

/** SIA-DCS data (DC-03 in DC-09 §5.5.1.5): `#acct|Nri<area>/<code><zone>`. */
export function siaDcsData(account: string, e: Dc09Event): string {
  const code = e.restore ? (e.code.siaRestore ?? e.code.sia) : e.code.sia
  return `#${account}|Nri${e.partition}/${code}${pad(e.zone, 3)}`
}
