/**
 * CSV export for history and roll calls (issue 15). Field payloads end up in
 * spreadsheets, so a text cell that starts with = + - @ (or tab / CR) is
 * prefixed with an apostrophe: OWASP "CSV injection". Numbers pass unchanged
 * (an RSSI of -67 is a number, not a formula).
 */
const FORMULA_START = /^[=+\-@\t\r]/

export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  let s = String(v)
  if (FORMULA_START.test(s)) s = `'${s}`
  if (/[",\r\n']/.test(s)) s = `"${s.replace(/"/g, '""')}"`
  return s
}

export function csvLine(cells: unknown[]): string {
  return cells.map(csvCell).join(',') + '\r\n'
}

export function toCsv(header: string[], rows: unknown[][]): string {
  // A UTF-8 BOM so spreadsheet programs read Chinese labels correctly.
  return '\uFEFF' + csvLine(header) + rows.map(csvLine).join('')
}
