/**
 * Load and validate the station config: YAML, then the schema (ajv, every
 * error at once, defaults filled in), each problem with its path, its line in
 * the file and a hint from the schema (like the gateway's config; the station
 * does not import gateway/, so this is its own short copy).
 */
import { yamlLineLocator } from '../../devices/host/yaml-line-locator.js'
import { readFileSync, statSync } from 'node:fs'
import { LineCounter, parseDocument } from 'yaml'
import { Ajv } from 'ajv'
import { stationConfigSchema, type StationConfig } from './station-config-schema.js'

export interface StationConfigProblem { path: string; line: number | null; message: string; hint: string }

export class StationConfigError extends Error {
  constructor(readonly file: string, readonly problems: StationConfigProblem[]) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n` + problems.map((p) => `  ${p.line ? `${file}:${p.line}` : file}  ${p.path || '(top level)'}: ${p.message}${p.hint ? `\n      hint: ${p.hint}` : ''}`).join('\n'))
  }
}

const validate = new Ajv({ allErrors: true, useDefaults: true, strict: false }).compile(stationConfigSchema)

export function parseStationConfig(text: string, file = 'station.yaml'): StationConfig {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const problems: StationConfigProblem[] = doc.errors.map((e) => ({
    path: '', line: e.pos ? lines.linePos(e.pos[0]).line : null, message: `YAML: ${e.message.split('\n')[0]}`, hint: 'fix the YAML syntax (indent with spaces; quote values containing ":" or "#")',
  }))
  if (problems.length) throw new StationConfigError(file, problems)
  const data: unknown = doc.toJS() ?? {}
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new StationConfigError(file, [{ path: '', line: 1, message: 'the file must be a YAML mapping (key: value)', hint: 'start with "broker:" and its "url:"; see docs/station.md' }])
  }
  const lineOf = yamlLineLocator(doc, lines)
  if (!validate(data)) {
    for (const e of validate.errors ?? []) {
      const parts = e.instancePath.split('/').filter(Boolean)
      const parent = e.parentSchema as { description?: string; properties?: Record<string, { description?: string }> } | undefined
      let path = parts
      let message = e.message ?? 'is invalid'
      let hint = parent?.description ?? ''
      if (e.keyword === 'required') {
        const missing = (e.params as { missingProperty: string }).missingProperty
        path = [...parts, missing]
        message = 'is required but missing'
        hint = parent?.properties?.[missing]?.description ?? ''
      } else if (e.keyword === 'additionalProperties') {
        const extra = (e.params as { additionalProperty: string }).additionalProperty
        path = [...parts, extra]
        message = 'is not a known setting'
        hint = `known here: ${Object.keys(parent?.properties ?? {}).join(', ')}`
      }
      problems.push({ path: path.join('.'), line: lineOf(path), message, hint })
    }
  }
  if (problems.length) throw new StationConfigError(file, problems)
  return data as StationConfig
}

export function loadStationConfig(file: string): StationConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new StationConfigError(file, [{ path: '', line: null, message: `cannot read the config file (${(e as NodeJS.ErrnoException).code})`, hint: 'pass the right path with --config' }])
  }
  return parseStationConfig(text, file)
}

export interface StationSecrets { broker_password: string | null; store_password: string | null }

/** The secrets file must not be readable by group or others (0600), like the gateway's. */
export function loadStationSecrets(file: string | null): StationSecrets {
  if (!file) return { broker_password: null, store_password: null }
  let text: string
  try {
    const st = statSync(file)
    if (st.mode & 0o077) throw new Error(`${file} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 ${file}`)
    text = readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw new Error(`cannot read the secrets file ${file} (${(e as NodeJS.ErrnoException).code}): check secrets_file in the config`)
    throw e
  }
  const data = (parseDocument(text).toJS() ?? {}) as Record<string, unknown>
  const str = (k: string) => (typeof data[k] === 'string' ? (data[k] as string) : null)
  return { broker_password: str('broker_password'), store_password: str('store_password') }
}
