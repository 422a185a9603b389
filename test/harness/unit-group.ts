/**
 * Shared test processes for the quick unit test files (issue 14 §5: `npm test`
 * under five minutes on an idle two-core machine). tap starts one node process
 * per test file, and a process costs ~1.1 CPU-s before a test runs (node, the
 * loader, tap); for a codec test that is most of its cost. Files that are
 * pure units run instead inside one process per area, each file as a subtest
 * named after it (tap 21 has no in-process mode: its author's advice is a file
 * that imports the others, tapjs/tapjs#61).
 *
 * THE LIST is package.json "tap".exclude, and only that: tap's own run leaves
 * those files out, and the group file (`unit-group.test.ts`) nearest above
 * each of them runs it. A file joins by adding its path there (a plain path,
 * no glob) after checking it is safe to share a process: no child processes
 * or servers, nothing process-wide that outlives it (process.on listeners,
 * environment changes, patched globals or prototypes, fake timers on the
 * globals), and it passes both alone and in its group.
 * Named on the command line (`npx tap test/x/y.test.ts`) a grouped file
 * still runs alone in its own process, as before: tap's exclude only filters
 * what tap finds by itself.
 *
 * How a file's tests end up inside its subtest: the file's `import t from
 * 'tap'` is resolved (./unit-group-hooks.mjs, for the grouped files only) to
 * that subtest, so its top-level t.test/t.teardown/t.setTimeout belong to it;
 * the files are imported one after another, each while its subtest runs.
 * A failure is reported under the file's name; a file that fails to load
 * fails its own subtest. Each file keeps tap's per-file timeout (config
 * "timeout", or its own t.setTimeout).
 */
import t, { type Test } from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { register } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** The name of a group file; it runs the listed files below its directory. */
export const GROUP_FILE_NAME = 'unit-group.test.ts'

interface TapConfig { exclude?: string[]; timeout?: number }

function tapConfig(): TapConfig {
  return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { tap?: TapConfig }).tap ?? {}
}

/** Every grouped test file, as listed (repo-relative paths). */
export function groupedFiles(): string[] {
  return (tapConfig().exclude ?? []).filter((p) => p.endsWith('.test.ts'))
}

/** The group file that runs `file`: the nearest `unit-group.test.ts` above it, or null. */
export function groupOf(file: string): string | null {
  for (let dir = dirname(file); dir !== '.' && dir !== '/' && dir !== ''; dir = dirname(dir)) {
    const candidate = join(dir, GROUP_FILE_NAME)
    if (existsSync(join(ROOT, candidate))) return candidate
  }
  return null
}

/** Problems with the list that would drop a file from `npm test` silently. */
export function listProblems(files: readonly string[]): string[] {
  const problems: string[] = []
  for (const f of files) {
    if (!existsSync(join(ROOT, f))) problems.push(`package.json tap.exclude names ${f}, which does not exist (plain repo-relative paths only, no globs)`)
    else if (groupOf(f) === null) problems.push(`${f} is in package.json tap.exclude but no ${GROUP_FILE_NAME} is above it: nothing would run it`)
  }
  return problems
}

/** Run the grouped files that belong to the group file at `groupUrl` (its import.meta.url). */
export async function runUnitGroup(groupUrl: string): Promise<void> {
  const self = relative(ROOT, fileURLToPath(groupUrl))
  const all = groupedFiles()
  const problems = listProblems(all)
  if (problems.length > 0) {
    for (const p of problems) t.fail(p)
    return
  }
  const mine = all.filter((f) => groupOf(f) === self)
  if (mine.length === 0) {
    t.fail(`${self}: no file in package.json tap.exclude belongs to this group`)
    return
  }
  const urls = mine.map((f) => pathToFileURL(join(ROOT, f)).href)
  register('./unit-group-hooks.mjs', import.meta.url, { data: { files: urls } })
  const subtests = new Map<string, Test>()
  ;(globalThis as Record<symbol, unknown>)[Symbol.for('safehouse.unit-group')] = (url: string): Test => {
    const st = subtests.get(url)
    if (!st) throw new Error(`unit group: ${url} imported tap outside its subtest`)
    return st
  }
  // Each file keeps the per-file budget it has when tap runs it alone; the
  // process as a whole gets the sum (tap would kill it at the config's value).
  const perFileMs = (tapConfig().timeout ?? 30) * 1000
  t.setTimeout(perFileMs * mine.length)
  mine.forEach((file, i) => {
    t.test(file, { timeout: perFileMs }, async (st) => {
      subtests.set(urls[i]!, st)
      await import(urls[i]!)
    })
  })
}
