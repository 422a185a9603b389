/**
 * The defaults a device config schema fragment declares, as one object: what
 * ajv `useDefaults` (gateway/config/load-config.ts) fills into an entry that
 * sets nothing. For the code that builds configs without the loader (tests,
 * simulated twins, provisioning), so that a default lives in the schema only.
 *
 * Like ajv, an object-valued default is completed with the defaults of its own
 * properties, and every call returns fresh copies (no shared arrays).
 */
interface PropertySchema {
  default?: unknown
  properties?: Readonly<Record<string, object>>
}

export function schemaDefaults(properties: Readonly<Record<string, object>>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, p] of Object.entries(properties)) {
    if (!('default' in p)) continue
    const s = p as PropertySchema
    const value = structuredClone(s.default)
    out[name] = s.properties && typeof value === 'object' && value !== null
      ? { ...schemaDefaults(s.properties), ...value }
      : value
  }
  return out
}
