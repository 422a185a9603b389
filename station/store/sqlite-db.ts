/**
 * SqlDb over better-sqlite3 (docs/decisions.md: chosen over node:sqlite, which
 * is still experimental on Node 20/22). One file in the data dir, WAL so the
 * console's reads never wait for ingest's writes; a busy timeout so a second
 * process on the same file waits instead of failing.
 */
import Database from 'better-sqlite3'
import type { SqlDb, SqlRow, SqlValue } from './sql-db.js'

export class SqliteDb implements SqlDb {
  readonly kind = 'sqlite' as const
  private readonly db: Database.Database
  private readonly cache = new Map<string, Database.Statement>()
  private inTx = false

  constructor(readonly file: string) {
    this.db = new Database(file)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.db.pragma('busy_timeout = 5000')
    this.db.pragma('foreign_keys = ON')
  }

  private stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql)
    if (!s) {
      s = this.db.prepare(sql)
      this.cache.set(sql, s)
    }
    return s
  }

  async all(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return this.stmt(sql).all(...params) as SqlRow[]
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return this.stmt(sql).run(...params).changes
  }

  async exec(sql: string): Promise<void> {
    this.db.exec(sql)
  }

  /**
   * better-sqlite3 is synchronous; an async fn could interleave with another
   * caller's statements between its awaits, so transactions are serialised
   * here by a promise chain (the store never awaits anything but the db inside).
   */
  private chain: Promise<unknown> = Promise.resolve()
  tx<T>(fn: (db: SqlDb) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      this.db.exec('BEGIN IMMEDIATE')
      this.inTx = true
      try {
        const r = await fn(this)
        this.db.exec('COMMIT')
        return r
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK')
        throw e
      } finally {
        this.inTx = false
      }
    }
    const p = this.chain.then(run, run)
    this.chain = p.catch(() => {})
    return p
  }

  async close(): Promise<void> {
    await this.chain
    if (this.db.open) this.db.close()
  }
}
