/** The store conformance suite on a real PostgreSQL 15 started by the test (test/harness/postgres.ts). */
import t from 'tap'
import { Postgres } from '../../harness/postgres.js'
import { openStore } from '../../../station/store/open-store.js'
import { conformance } from './conformance.js'

const pg = await new Postgres().start()
t.teardown(() => pg.close())
let n = 0

conformance(t, async (now) => {
  const url = await pg.database(`conf${++n}`)
  const o = { now, scryptN: 1024 }
  return { store: await openStore(url, o), reopen: () => openStore(url, o) }
})
