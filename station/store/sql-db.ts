/**
 * The one thing that differs between SQLite and PostgreSQL for the station
 * store: how a statement is run. Statements are written once with `?`
 * placeholders and portable SQL (INSERT … ON CONFLICT, BIGINT times, 0/1
 * booleans, TEXT JSON); the PostgreSQL adapter renumbers the placeholders.
 */
export type SqlValue = string | number | null
export type SqlRow = Record<string, unknown>

export interface SqlDb {
  readonly kind: 'sqlite' | 'postgres'
  all(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>
  /** Several statements (migrations), no parameters. */
  exec(sql: string): Promise<void>
  /** fn's statements in one transaction (on its own connection for PostgreSQL). */
  tx<T>(fn: (db: SqlDb) => Promise<T>): Promise<T>
  close(): Promise<void>
}
