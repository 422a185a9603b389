/**
 * The migrations, in order. Add a file `NNN-what.ts` exporting `sql` and list
 * it here; never edit an applied one (a database records the versions it has).
 */
import { sql as v1 } from './001-initial.js'

export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  { version: 1, name: '001-initial', sql: v1 },
]
