/**
 * The station contract's JSON Schemas (one file per payload, beside this
 * module) compiled once. Used by the gateway to check what clients send and
 * by the tests to check what the gateway sends.
 */
import { Ajv2020 } from 'ajv/dist/2020.js'
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

const ajv = new Ajv2020({ allErrors: true, strict: false })

export const schemas = { alert, ack, status, gatewayState, deviceState, commandRequest, commandResponse, walkTestReport, testReport } as const
export type SchemaName = keyof typeof schemas

const compiled = new Map<SchemaName, ValidateFunction>()
function validator(name: SchemaName): ValidateFunction {
  let v = compiled.get(name)
  if (!v) {
    v = ajv.compile(schemas[name])
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
