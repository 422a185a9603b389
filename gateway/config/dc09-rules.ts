/** Cross-field rules of the `dc09:` section (issue 17 "Bad input"); run with the others. */
import type { Config } from './config-types.js'
import type { ConfigProblem } from './config-error.js'
import { REPORTING_CLASS_S } from './dc09-schema.js'
import { KIND_NAMES, kindClass, EventClass } from '../../protocols/event-kinds.js'

/** Alert kinds an override may name (the station contract's names; check_in and roll_call_missed included). */
export const DC09_OVERRIDABLE_KINDS: readonly string[] = KIND_NAMES.filter((n, i) => n !== '' && kindClass(i) === EventClass.ALERT && n !== 'restored')

export function dc09Problems(c: Config): Omit<ConfigProblem, 'line'>[] {
  const out: Omit<ConfigProblem, 'line'>[] = []
  const d = c.dc09
  if (!d) return out
  for (const kind of Object.keys(d.mapping)) {
    if (!DC09_OVERRIDABLE_KINDS.includes(kind)) {
      const near = DC09_OVERRIDABLE_KINDS.find((k) => k.startsWith(kind.slice(0, 3)))
      out.push({ path: `dc09.mapping.${kind}`, message: `"${kind}" is not an alert kind`, hint: `${near ? `did you mean "${near}"? ` : ''}kinds: ${DC09_OVERRIDABLE_KINDS.join(', ')} (restores use the kind they clear)` })
    }
  }
  if (!d.enabled) return out
  if (!d.account) out.push({ path: 'dc09', message: 'dc09 is enabled but has no account', hint: 'set dc09.account to the account number the receiving centre gave this post (3-16 hex digits)' })
  if (!d.primary) out.push({ path: 'dc09', message: 'dc09 is enabled but has no primary receiver', hint: 'set dc09.primary: "host:port" of the receiving centre' })
  for (const k of ['primary', 'backup'] as const) {
    const ep = d[k]
    const port = ep ? Number(ep.slice(ep.lastIndexOf(':') + 1)) : 0
    if (ep && !(port >= 1 && port <= 65535)) out.push({ path: `dc09.${k}`, message: `port ${port} is not 1-65535`, hint: 'give host:port with the receiver\'s port, e.g. "arc1.example.org:12000"' })
  }
  if (d.backup && d.backup === d.primary) out.push({ path: 'dc09.backup', message: 'is the same as the primary receiver', hint: 'give the centre\'s second receiver, or null' })
  const cls = d.reporting_class
  if (cls) {
    const limit = REPORTING_CLASS_S[cls]
    const worst = d.null_poll_s + Math.ceil(d.ack_timeout_ms / 1000)
    if (d.null_poll_s === 0 || worst > limit) out.push({ path: 'dc09.null_poll_s', message: `${d.null_poll_s === 0 ? 'polls are off' : `a poll every ${d.null_poll_s} s plus the ${d.ack_timeout_ms} ms ACK wait`} cannot meet ${cls} (path failure reported within ${limit} s)`, hint: `set null_poll_s to at most ${Math.max(1, limit - Math.ceil(d.ack_timeout_ms / 1000))}, and agree the same supervision interval with the receiving centre` })
  }
  return out
}
