/**
 * SqlDb over node-postgres (pg): a pool, so several station instances and the
 * console's reads share one PostgreSQL. `?` placeholders become `$1…`; BIGINT
 * columns arrive as strings from pg and are turned into numbers by the
 * mappers (times in ms fit a double exactly).
 */
import pg from 'pg'
import type { SqlDb, SqlRow, SqlValue } from './sql-db.js'

function numbered(sql: string): string {
  let n = 0
  return sql.replace(/\?/g, () => `$${++n}`)
}

type Queryable = { query: (text: string, values?: unknown[]) => Promise<{ rows: SqlRow[]; rowCount: number | null }> }

class PgRunner implements SqlDb {
  readonly kind = 'postgres' as const
  constructor(protected readonly q: Queryable) {}
  async all(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return (await this.q.query(numbered(sql), [...params])).rows
  }
  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return (await this.q.query(numbered(sql), [...params])).rowCount ?? 0
  }
  async exec(sql: string): Promise<void> {
    await this.q.query(sql)
  }
  async tx<T>(fn: (db: SqlDb) => Promise<T>): Promise<T> {
    return fn(this) // already inside one (see PostgresDb.tx)
  }
  async close(): Promise<void> {}
}

export class PostgresDb extends PgRunner {
  private readonly pool: pg.Pool
  constructor(url: string, opts: { connectTimeoutMs?: number; max?: number } = {}) {
    const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: opts.connectTimeoutMs ?? 3000, max: opts.max ?? 5 })
    // A lost server connection is reported on the next query; an idle client's error must not crash us.
    pool.on('error', () => {})
    super(pool as unknown as Queryable)
    this.pool = pool
  }

  override async tx<T>(fn: (db: SqlDb) => Promise<T>): Promise<T> {
    const client = await this.pool.connect()
    client.on('error', () => {})
    try {
      await client.query('BEGIN')
      const r = await fn(new PgRunner(client as unknown as Queryable))
      await client.query('COMMIT')
      return r
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {})
      throw e
    } finally {
      client.release()
    }
  }

  override async close(): Promise<void> {
    await this.pool.end()
  }
}
