/**
 * Read-only look at an outbox directory, for maintainers (docs/operations.md
 * "The outbox"): what each segment holds, what is pending, what is damaged.
 * Changes nothing — safe while the gateway runs (it may then show a batch
 * being written as a "torn tail").
 *
 *   node dist/gateway/outbox/outbox-inspect.js /var/lib/safehouse/outbox [--pending]
 *   node --import tsx gateway/outbox/outbox-inspect.ts <dir> [--pending]   (from a checkout)
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { COMPACTED_MAGIC } from './outbox-log-format.js'
import { scanSegment } from './outbox-recovery.js'
import type { StoredEntry } from './outbox-segments.js'
import { isTempName, segmentNumber } from './outbox-segments.js'

export interface SegmentReport {
  name: string
  kind: 'appended' | 'compacted' | 'foreign'
  bytes: number
  alerts: number
  acks: number
  damage: string[]
}

export interface OutboxReport {
  dir: string
  segments: SegmentReport[]
  /** Unacknowledged alerts, in acceptance order. */
  pending: Array<{ id: string; device: string; acceptedAt: number }>
  /** Leftovers of an interrupted compaction (removed at the next open). */
  temps: string[]
}

export function inspectOutbox(dir: string): OutboxReport {
  const names = readdirSync(dir)
  const numbered = names.filter((n) => segmentNumber(n) >= 0).sort((a, b) => segmentNumber(a) - segmentNumber(b))
  let entries = new Map<string, StoredEntry>()
  const segments: SegmentReport[] = []
  for (const name of numbered) {
    const buf = readFileSync(join(dir, name))
    const compacted = buf.subarray(0, COMPACTED_MAGIC.length).equals(COMPACTED_MAGIC)
    // A compacted segment holds the whole live state; older files are leftovers.
    if (compacted) entries = new Map()
    const rep: SegmentReport = { name, kind: compacted ? 'compacted' : 'appended', bytes: buf.length, alerts: 0, acks: 0, damage: [] }
    const r = scanSegment(buf, segmentNumber(name), {
      alert(e) { rep.alerts++; entries.set(e.id, e) },
      ack(id) { rep.acks++; entries.delete(id) },
    })
    if (r.badHeader) rep.kind = 'foreign'
    rep.damage.push(...r.skipped)
    if (r.tailBytes > 0 && !r.badHeader) rep.damage.push(`torn tail: ${r.tailBytes} bytes at offset ${r.end}`)
    segments.push(rep)
  }
  const pending = [...entries.values()].map((e) => ({ id: e.id, device: e.device, acceptedAt: e.acceptedAt }))
  return { dir, segments, pending, temps: names.filter(isTempName) }
}

function main(argv: string[]): void {
  const dir = argv.find((a) => !a.startsWith('--'))
  if (dir === undefined) {
    console.error('usage: outbox-inspect <outbox dir> [--pending]')
    process.exitCode = 2
    return
  }
  const r = inspectOutbox(dir)
  for (const s of r.segments) {
    console.log(`${s.name}  ${s.kind}  ${s.bytes} bytes  ${s.alerts} alerts  ${s.acks} acks${s.damage.length ? '  DAMAGE: ' + s.damage.join('; ') : ''}`)
  }
  for (const t of r.temps) console.log(`${t}  (interrupted compaction; removed at next start)`)
  const byDevice = new Map<string, number>()
  for (const p of r.pending) byDevice.set(p.device, (byDevice.get(p.device) ?? 0) + 1)
  console.log(`pending: ${r.pending.length}` + (r.pending.length ? `, oldest ${r.pending[0].id} accepted ${new Date(r.pending[0].acceptedAt).toISOString()}` : ''))
  for (const [d, n] of byDevice) console.log(`  ${d}: ${n}`)
  if (argv.includes('--pending')) for (const p of r.pending) console.log(`${new Date(p.acceptedAt).toISOString()}  ${p.device}  ${p.id}`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2))
