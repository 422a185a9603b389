/**
 * Is a redelivered alert the same alert? The contract says a resend carries
 * the same bytes; a broker or bridge may re-serialise JSON, so equal parsed
 * values (key order ignored) count as the same too.
 */
export function sameContent(a: string, b: string): boolean {
  if (a === b) return true
  try {
    return canonical(JSON.parse(a)) === canonical(JSON.parse(b))
  } catch {
    return false
  }
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`
  }
  return JSON.stringify(v)
}
