/**
 * Versioned migrations: `migrations/NNN-name.ts` (listed in migrations/index.ts), applied in order, each in
 * its own transaction, the version recorded in `schema_version`. The same
 * files serve both engines; `{{id}}` is the one dialect difference.
 * Two instances starting at once: the loser of the race fails its insert of
 * the version row and re-reads (PostgreSQL), or waits on the file lock (SQLite).
 */
import type { SqlDb } from './sql-db.js'
import { MIGRATIONS } from './migrations/index.js'

function dialect(sql: string, kind: SqlDb['kind']): string {
  return sql.replaceAll('{{id}}', kind === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY')
}

/** Applies what is missing; returns the schema version now in the database. */
export async function migrate(db: SqlDb): Promise<number> {
  await db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)')
  let current = 0
  for (const m of MIGRATIONS) {
    await db.tx(async (tx) => {
      if (tx.kind === 'postgres') await tx.exec('LOCK TABLE schema_version IN EXCLUSIVE MODE')
      const rows = await tx.all('SELECT version FROM schema_version WHERE version = ?', [m.version])
      if (rows.length) return false
      await tx.exec(dialect(m.sql, tx.kind))
      await tx.run('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, Date.now()])
      return true
    })
    current = m.version
  }
  return current
}
