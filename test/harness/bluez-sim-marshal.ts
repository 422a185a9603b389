/**
 * Test-harness-only workaround for dbus-next 0.10.2: it cannot marshal a dict
 * with integer keys (BlueZ's ManufacturerData is `a{qv}`), because a JS object
 * gives its keys back as strings and the `q` marshaller insists on
 * `typeof data === 'number'`. The product never sends such a dict (it only
 * receives them, which works), so only the simulated org.bluez needs this.
 *
 * We wrap MakeSimpleMarshaller so integer types accept a canonical decimal
 * string ("76") and marshal it as the number. Idempotent.
 */
import { createRequire } from 'node:module'

const INTEGER_TYPES = 'ynqiux t'
let patched = false

export function patchDbusNextIntegerKeys(): void {
  if (patched) return
  patched = true
  const require = createRequire(import.meta.url)
  const marshallers = require('dbus-next/lib/marshallers.js') as {
    MakeSimpleMarshaller: (type: string) => { marshall(ps: unknown, data: unknown): void; check(data: unknown): void }
  }
  const original = marshallers.MakeSimpleMarshaller
  marshallers.MakeSimpleMarshaller = (type: string) => {
    const m = original(type)
    if (!INTEGER_TYPES.includes(type)) return m
    const marshall = m.marshall
    m.marshall = function (ps: unknown, data: unknown) {
      marshall.call(this, ps, typeof data === 'string' && /^-?\d+$/.test(data) ? Number(data) : data)
    }
    return m
  }
}
