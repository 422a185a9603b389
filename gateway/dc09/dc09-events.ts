/**
 * A queued alert -> the DC-09 data field (issue 17 §2): kind -> Contact ID /
 * SIA codes (protocols/dc09/events.ts, overridden per kind by dc09.mapping),
 * devices as zones, `restored` as the restore of the kind it clears.
 */
import { DEFAULT_DC09_CODES, contactIdData, siaDcsData, type Dc09Code } from '../../protocols/dc09/events.js'
import { KIND_NAMES } from '../../protocols/event-kinds.js'
import type { Dc09Config } from '../config/dc09-schema.js'
import type { Dc09Record } from './dc09-sink.js'

export class Dc09EventMapper {
  private readonly codes: Record<string, Dc09Code>

  constructor(private readonly c: Pick<Dc09Config, 'mapping' | 'token' | 'partition' | 'account'>) {
    this.codes = { ...DEFAULT_DC09_CODES }
    for (const [kind, o] of Object.entries(c.mapping)) {
      const d = this.codes[kind] ?? { cid: '300', sia: 'UT', siaRestore: 'UJ' }
      this.codes[kind] = { cid: o.cid ?? d.cid, sia: o.sia ?? d.sia, siaRestore: o.sia_restore === undefined ? d.siaRestore : o.sia_restore }
    }
  }

  code(kind: string): Dc09Code | undefined {
    return this.codes[kind]
  }

  /** The data field for one queued record, or null when the record is unreadable or the kind unmapped. */
  data(payload: Buffer): string | null {
    let r: Dc09Record
    try {
      r = JSON.parse(payload.toString('utf8')) as Dc09Record
    } catch {
      return null
    }
    let kind = r.kind
    let restore = false
    if (kind === 'restored') {
      restore = true
      // value = cleared kind + 256 × detail (docs/protocol.md); none = the gateway's own trouble cleared.
      kind = r.value === null ? 'gateway_trouble' : KIND_NAMES[r.value & 0xff] || 'gateway_trouble'
    }
    const code = this.codes[kind]
    if (!code) return null
    if (restore && code.siaRestore === null && this.c.token === 'SIA-DCS') return null
    const e = { code, restore, partition: this.c.partition, zone: Math.min(999, Math.max(0, r.zone | 0)) }
    const account = this.c.account ?? ''
    return this.c.token === 'ADM-CID' ? contactIdData(account, e) : siaDcsData(account, e)
  }
}
