/**
 * The questions after a BLE device is picked: id, label, location, alert kind
 * and, for an encrypted BTHome device, its key. An answer given as a flag is
 * not asked; on a terminal a bad answer is asked again, in a script (answers
 * one per line on stdin) it ends the command (Prompter).
 */
import { bleWhistleConfigSchema } from '../../devices/ble-whistle/config.js'
import { isTopicLevel } from '../../protocols/mqtt/topics.js'
import type { Prompter } from '../shared/prompter.js'
import type { Candidate } from './ble-candidates.js'
import { keyProblem, normalizeKey } from './ble-key.js'

export const ALERT_KINDS = bleWhistleConfigSchema.properties.alert_kind.enum
export const DEFAULT_ALERT_KIND = bleWhistleConfigSchema.properties.alert_kind.default

export interface GivenAnswers {
  id?: string
  label?: string
  location?: string
  alertKind?: string
}

export interface IdRules {
  /** Ids already in the config. */
  ids: readonly string[]
  replace: boolean
  /** Id under which the picked address is configured already, or null. */
  addressOwner: string | null
  address: string
}

export function idProblem(id: string, r: IdRules): string | null {
  if (!isTopicLevel(id)) return 'an id is lower-case letters, digits and dashes, 1-32 characters, starting with a letter or digit (it becomes an MQTT topic level)'
  if (id === 'gateway') return '"gateway" is reserved for the gateway itself'
  if (r.addressOwner !== null && id !== r.addressOwner) return `${r.address} is already configured as "${r.addressOwner}": pair it again under that id (with --replace), or remove "${r.addressOwner}" first`
  if (r.ids.includes(id) && !r.replace) return `a device with id "${id}" is already in the config: choose another id, or pass --replace to overwrite it`
  return null
}

/** A free id from the device's name ("SBBT-002C" -> "sbbt-002c") or address ("ble-000007"). */
export function defaultId(c: Candidate, r: IdRules): string {
  if (r.addressOwner !== null) return r.addressOwner
  const slug = c.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 28).replace(/-+$/, '')
  const base = slug !== '' && isTopicLevel(slug) ? slug : 'ble-' + c.address.slice(9).replaceAll(':', '').toLowerCase()
  let id = base
  for (let n = 2; r.ids.includes(id) || id === 'gateway'; n++) id = `${base}-${n}`
  return id
}

export interface Answers {
  id: string
  label: string
  location: string
  alertKind: string | null
  keyHex: string | null
}

export async function askDetails(p: Prompter, c: Candidate, given: GivenAnswers, rules: IdRules, previous: Record<string, unknown> | null): Promise<Answers> {
  const prev = (k: string): string => (typeof previous?.[k] === 'string' ? (previous[k] as string) : '')
  const id = given.id ?? await p.ask('Device id', { default: defaultId(c, rules), validate: (a) => idProblem(a, rules) })
  const label = given.label ?? await p.ask('Label (shown at the station)', { default: prev('label') || c.name })
  const location = given.location ?? await p.ask('Location (who carries it, or where it is)', { default: prev('location') })
  let alertKind: string | null = null
  if (c.format === 'bthome' || (c.format === 'ibeacon' && c.pressMinor >= 0)) {
    const dflt = (ALERT_KINDS as readonly string[]).includes(prev('alert_kind')) ? prev('alert_kind') : DEFAULT_ALERT_KIND
    alertKind = given.alertKind ?? await p.choose('Alert kind a press raises', ALERT_KINDS, dflt as (typeof ALERT_KINDS)[number])
  }
  let keyHex: string | null = null
  if (c.format === 'bthome' && c.encrypted) {
    const sd = c.bthome!
    const key = await p.secret(`BTHome key of ${c.address} (32 hex digits, from the device's app; not shown)`, {
      validate: (a) => {
        const hex = normalizeKey(a)
        return hex === null ? 'a key is 32 hex digits (16 bytes)' : keyProblem(hex, sd, c.address)
      },
    })
    keyHex = normalizeKey(key)
  }
  return { id, label, location, alertKind, keyHex }
}
