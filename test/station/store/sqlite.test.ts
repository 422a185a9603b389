/** The store conformance suite on SQLite (better-sqlite3, a file in a temp dir, WAL). */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStore } from '../../../station/store/open-store.js'
import { conformance } from './conformance.js'

const dir = mkdtempSync(join(tmpdir(), 'safehouse-store-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

conformance(t, async (now) => {
  const url = `sqlite:${join(dir, `s${++n}`, 'station.db')}`
  const o = { now, scryptN: 1024 }
  return { store: await openStore(url, o), reopen: () => openStore(url, o) }
})
