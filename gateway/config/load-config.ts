/**
 * Load, validate and freeze the config (issue 2 §4). Every problem is
 * collected before anything opens a port: YAML syntax, schema (ajv with
 * allErrors), then cross-field rules. Each problem names its path, its line
 * in the file and a hint taken from the schema's description.
 */
import { yamlLineLocator } from '../../devices/host/yaml-line-locator.js'
import { readFileSync } from 'node:fs'
import { yamlProblems } from './yaml-problems.js'
import { LineCounter, parseDocument } from 'yaml'
import type { ErrorObject } from 'ajv'
// The schema's validator, generated from schema.ts at development time (generate-config-validator.ts):
// no ajv compiler to load and no schema to compile at each start (issue 13 §5), and its compiled
// code read from V8's code cache when one matches (config-validator.ts).
import { configValidator } from './config-validator.js'
import type { Config } from './config-types.js'
import { ConfigError, type ConfigProblem } from './config-error.js'
import { crossFieldProblems } from './cross-field-rules.js'

/** Rules a caller adds to the built-in ones (`config check`'s look at the secrets and key files). */
export type ExtraRules = (c: Config) => Omit<ConfigProblem, 'line'>[]

/** Parse YAML text into a config, or throw ConfigError listing every problem. */
export function parseConfig(text: string, file = 'config.yaml', extraRules?: ExtraRules): Readonly<Config> {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const problems: ConfigProblem[] = yamlProblems(text, doc.errors, lines)
  if (problems.length) throw new ConfigError(file, problems)
  const data: unknown = doc.toJS() ?? {}
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(file, [{ path: '', line: 1, message: 'the file must be a YAML mapping (key: value)', hint: 'start with "site: <id>" and "post: <id>"; see docs/install.md (safehouse init writes a complete one)' }])
  }
  const lineOf = yamlLineLocator(doc, lines)
  const validate = configValidator()
  if (!validate(data)) {
    for (const e of pruneErrors(validate.errors ?? [])) problems.push(describe(e, data, lineOf))
  }
  // Cross-field rules also run on an invalid file where they can, so one
  // `config check` shows every problem; a rule that trips on a wrong type is skipped.
  try {
    for (const p of crossFieldProblems(data as Config, (path) => doc.hasIn(pathArray(path)))) problems.push({ ...p, line: lineOf(pathArray(p.path)) })
    if (extraRules) for (const p of extraRules(data as Config)) problems.push({ ...p, line: lineOf(pathArray(p.path)) })
  } catch {
    /* shape already reported by the schema */
  }
  if (problems.length) throw new ConfigError(file, problems)
  return deepFreeze(data as Config)
}

export function loadConfig(file: string, extraRules?: ExtraRules): Readonly<Config> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const hint = code === 'ENOENT' ? 'create it from the example in docs/install.md §3, or pass the right path with --config' : 'check the file permissions (the service user must be able to read it)'
    throw new ConfigError(file, [{ path: '', line: null, message: `cannot read the config file (${code})`, hint }])
  }
  return parseConfig(text, file, extraRules)
}

/** With a discriminator, ajv reports the chosen branch only; drop duplicate and noise errors. */
function pruneErrors(errors: ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>()
  // A device without `kind` trips both `required` and `discriminator`: report it once (with the list of kinds).
  const discriminated = new Set(errors.filter((e) => e.keyword === 'discriminator').map((e) => e.instancePath))
  return errors.filter((e) => {
    if (e.keyword === 'required' && discriminated.has(e.instancePath) && (e.params as { missingProperty?: string }).missingProperty === 'kind') return false
    const k = `${e.instancePath}|${e.keyword}|${JSON.stringify(e.params)}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

function pathArray(p: string): (string | number)[] {
  return p.split(/[.[\]]/).filter(Boolean).map((s) => (/^\d+$/.test(s) ? Number(s) : s))
}

function toDotted(instancePath: string): (string | number)[] {
  return instancePath.split('/').filter(Boolean).map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')))
}

function dotted(parts: (string | number)[]): string {
  return parts.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('')
}

function describe(e: ErrorObject, data: unknown, lineOf: (p: (string | number)[]) => number | null): ConfigProblem {
  const parts = toDotted(e.instancePath)
  const parent = e.parentSchema as { description?: string; properties?: Record<string, { description?: string }>; enum?: unknown[] } | undefined
  const desc = (parent?.description ?? '').trim()
  switch (e.keyword) {
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty
      const d = parent?.properties?.[missing]?.description ?? ''
      return { path: dotted([...parts, missing]), line: lineOf(parts), message: 'is required but missing', hint: d || `add "${missing}:"` }
    }
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty
      const known = Object.keys(parent?.properties ?? {})
      const near = closest(extra, known)
      return {
        path: dotted([...parts, extra]),
        line: lineOf([...parts, extra]),
        message: 'is not a known setting',
        hint: near ? `did you mean "${near}"? Known here: ${known.join(', ')}` : `known here: ${known.join(', ')}`,
      }
    }
    case 'enum':
      return { path: dotted(parts), line: lineOf(parts), message: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`, hint: desc }
    case 'discriminator': {
      const kinds = ['panic-button', 'ble-whistle', 'lamp-box']
      const got = (valueAt(data, parts) as { kind?: unknown } | undefined)?.kind
      return { path: dotted([...parts, 'kind']), line: lineOf([...parts, 'kind']), message: got === undefined ? 'is required but missing' : `"${String(got)}" is not a device kind`, hint: `use one of: ${kinds.join(', ')}` }
    }
    case 'const':
      return { path: dotted(parts), line: lineOf(parts), message: `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`, hint: desc }
    default:
      return { path: dotted(parts), line: lineOf(parts), message: `${e.message ?? 'is invalid'} (got ${JSON.stringify(valueAt(data, parts))?.slice(0, 60)})`, hint: desc }
  }
}

function valueAt(data: unknown, parts: (string | number)[]): unknown {
  let v: unknown = data
  for (const p of parts) v = (v as Record<string | number, unknown> | undefined)?.[p]
  return v
}

function closest(word: string, options: string[]): string | null {
  let best: string | null = null
  let bestD = Math.max(2, Math.floor(word.length / 3)) + 1
  for (const o of options) {
    const d = editDistance(word, o)
    if (d < bestD) { best = o; bestD = d }
  }
  return best
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = tmp
    }
  }
  return row[b.length]
}

function deepFreeze<T>(o: T): Readonly<T> {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}
