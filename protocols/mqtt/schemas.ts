/**
 * The station contract's JSON Schemas (one file per payload, beside this
 * module) compiled once. Used by the gateway to check what clients send and
 * by the tests to check what the gateway sends.
 */
import { createRequire } from 'node:module'
import type { Ajv2020 } from 'ajv/dist/2020.js'
import type { ValidateFunction } from 'ajv'
import alert from './schemas/alert.schema.json' with { type: 'json' }
import ack from './schemas/ack.schema.json' with { type: 'json' }
import status from './schemas/status.schema.json' with { type: 'json' }
import gatewayState from './schemas/gateway-state.schema.json' with { type: 'json' }
import deviceState from './schemas/device-state.schema.json' with { type: 'json' }
import commandRequest from './schemas/command-request.schema.json' with { type: 'json' }
import commandResponse from './schemas/command-response.schema.json' with { type: 'json' }
import walkTestReport from './schemas/walk-test-report.schema.json' with { type: 'json' }
import testReport from './schemas/test-report.schema.json' with { type: 'json' }

let ajv: Ajv2020 | null = null
/**
 * ajv loads at the first payload checked, not at import (issue 13 §5-6): a gateway checks payloads
 * only when a local client publishes an ack or a command, so its start and idle memory do without
 * ajv's compiler. Module loading only; no other I/O.
 */
function compiler(): Ajv2020 {
  if (!ajv) {
    const { Ajv2020: Ctor } = createRequire(import.meta.url)('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js')
    ajv = new Ctor({ allErrors: true, strict: false })
  }
  return ajv
}

export const schemas = { alert, ack, status, gatewayState, deviceState, commandRequest, commandResponse, walkTestReport, testReport } as const
export type SchemaName = keyof typeof schemas

const compiled = new Map<SchemaName, ValidateFunction>()
function validator(name: SchemaName): ValidateFunction {
  let v = compiled.get(name)
  if (!v) {
    v = compiler().compile(schemas[name])
    compiled.set(name, v)
  }
  return v
}

/** Parse and validate a JSON payload: the value, or an error text saying what is wrong. */
export function checkPayload<T = unknown>(name: SchemaName, payload: Buffer | string): { ok: true; value: T } | { ok: false; error: string } {
  let value: unknown
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'))
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` }
  }
  const v = validator(name)
  if (!v(value)) {
    return { ok: false, error: (v.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ') }
  }
  return { ok: true, value: value as T }
}
