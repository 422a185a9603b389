/** Roll calls read back with their entries (both engines). */
import type { RollCallEntry, RollCallEntryState, RollCallRow } from '../station-api.js'
import type { SqlDb, SqlRow } from './sql-db.js'

function entry(r: SqlRow, startedAt: number): RollCallEntry {
  const at = r.answered_at === null || r.answered_at === undefined ? null : Number(r.answered_at)
  return {
    site: String(r.site), post: String(r.post), state: r.state as RollCallEntryState,
    answeredBy: r.answered_by === null || r.answered_by === undefined ? null : String(r.answered_by),
    answeredAt: at, delayMs: at === null ? null : at - startedAt,
  }
}

async function withEntries(db: SqlDb, rows: SqlRow[]): Promise<RollCallRow[]> {
  const out: RollCallRow[] = []
  for (const r of rows) {
    const startedAt = Number(r.started_at)
    const entries = await db.all('SELECT * FROM roll_call_entries WHERE roll_call = ? ORDER BY site, post', [String(r.id)])
    out.push({
      id: String(r.id), startedAt, deadline: Number(r.deadline), by: String(r.by_name),
      scope: { site: (r.scope_site ?? null) as string | null, group: (r.scope_group ?? null) as string | null },
      entries: entries.map((e) => entry(e, startedAt)),
    })
  }
  return out
}

export async function readRollCalls(db: SqlDb, limit: number): Promise<RollCallRow[]> {
  return withEntries(db, await db.all('SELECT * FROM roll_calls ORDER BY started_at DESC, id LIMIT ?', [limit]))
}

export async function readRollCall(db: SqlDb, id: string): Promise<RollCallRow | null> {
  const rows = await withEntries(db, await db.all('SELECT * FROM roll_calls WHERE id = ?', [id]))
  return rows[0] ?? null
}
