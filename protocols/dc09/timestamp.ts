/**
 * DC-09 timestamps (§5.5.1.8): `_HH:MM:SS,MM-DD-YYYY`, always UTC. Required on
 * encrypted messages (the receiver rejects one outside its window, typically
 * +20/-40 s), optional on plain ones; we always send one.
 */
const two = (n: number): string => (n < 10 ? '0' : '') + n

/** `HH:MM:SS,MM-DD-YYYY` (without the leading underscore) for wall ms. */
export function formatDc09Time(ms: number): string {
  const d = new Date(ms)
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())},${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}-${d.getUTCFullYear()}`
}

const TS = /^(\d{2}):(\d{2}):(\d{2}),(\d{2})-(\d{2})-(\d{4})$/

/** Wall ms for `HH:MM:SS,MM-DD-YYYY`, or NaN if it is not one. */
export function parseDc09Time(s: string): number {
  const m = TS.exec(s)
  if (!m) return Number.NaN
  const [h, mi, se, mo, d, y] = m.slice(1).map(Number)
  if (h > 23 || mi > 59 || se > 59 || mo < 1 || mo > 12 || d < 1 || d > 31) return Number.NaN
  return Date.UTC(y, mo - 1, d, h, mi, se)
}
