/**
 * Open the store a URL names: `sqlite:<path>` (the default: one file in the
 * data dir) or `postgres://…` / `postgresql://…` (several instances, one database).
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { SqlDb } from './sql-db.js'
import { SqlStore, type SqlStoreOptions } from './sql-store.js'
import { SqliteDb } from './sqlite-db.js'
import { PostgresDb } from './postgres-db.js'

export function openSqlDb(url: string): SqlDb {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length)
    if (!file) throw new Error('store URL "sqlite:" names no file: use sqlite:/var/lib/safehouse-station/station.db')
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
    return new SqliteDb(file)
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return new PostgresDb(url)
  throw new Error(`store URL "${url.replace(/\/\/[^@/]*@/, '//***@')}" is neither sqlite:<path> nor postgres://…`)
}

export async function openStore(url: string, o: SqlStoreOptions = {}): Promise<SqlStore> {
  const db = openSqlDb(url)
  try {
    return await SqlStore.open(db, o)
  } catch (e) {
    await db.close().catch(() => {})
    throw e
  }
}
