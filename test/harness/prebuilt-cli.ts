/**
 * The product transpiled ONCE per state of its sources, so the ~100 `safehouse`
 * processes the tests spawn start as plain node (issue 14 §5, "the test suite
 * stays fast"). Through `--import tsx` every spawn paid ~1 s of CPU for the
 * loader thread and for resolving each module through it; the transpiled copy
 * starts in a third of that.
 *
 * Same transform as tsx (esbuild, this repo's tsconfig, no bundling): the code
 * that runs is the code in the tree. The copy lives under
 * node_modules/.cache/safehouse-cli/<hash of every source file>, so an edited
 * source makes a new copy on the next spawn and a stale one is never run.
 * Concurrent test files build into their own temp dir and rename it into place.
 */
import { buildSync } from 'esbuild'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** The product's source folders (tsconfig.build.json "include"). */
const SOURCES = ['gateway', 'devices', 'protocols', 'provisioning', 'station']
const CACHE = join(ROOT, 'node_modules', '.cache', 'safehouse-cli')
/** Old copies are removed once they are this old (a concurrent run of other sources may still use a newer one). */
const KEEP_MS = 3_600_000

function walk(dir: string, out: string[]): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) walk(p, out)
    else if (e.isFile()) out.push(p)
  }
  return out
}

let built: string | null = null

/** The folder holding the transpiled product (built on first use in this process). */
export function prebuiltRoot(): string {
  if (built) return built
  const files = SOURCES.flatMap((d) => walk(join(ROOT, d), [])).sort()
  const hash = createHash('sha256')
  for (const f of files) hash.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0')
  hash.update(readFileSync(join(ROOT, 'tsconfig.json'))).update(process.versions.node)
  const key = hash.digest('hex').slice(0, 16)
  const dest = join(CACHE, key)
  if (!existsSync(join(dest, 'done'))) {
    const tmp = join(CACHE, `tmp-${process.pid}-${Date.now()}`)
    const ts = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    buildSync({
      entryPoints: ts, outdir: tmp, outbase: ROOT, format: 'esm', platform: 'node', target: `node${process.versions.node}`,
      tsconfig: join(ROOT, 'tsconfig.json'), sourcemap: 'inline', logLevel: 'silent',
    })
    // Everything else (JSON schemas, the console's static files) is linked, not copied: read where it is.
    for (const f of files.filter((f) => !f.endsWith('.ts'))) {
      const to = join(tmp, relative(ROOT, f))
      mkdirSync(dirname(to), { recursive: true })
      symlinkSync(f, to)
    }
    mkdirSync(join(tmp, 'done'))
    try {
      renameSync(tmp, dest)
    } catch {
      rmSync(tmp, { recursive: true, force: true }) // another test file was first: its copy is the same
    }
    for (const old of readdirSync(CACHE)) {
      const p = join(CACHE, old)
      if (old !== key && Date.now() - statSync(p).mtimeMs > KEEP_MS) rmSync(p, { recursive: true, force: true })
    }
  }
  built = dest
  return dest
}

/**
 * The environment for a spawned product process: tap puts its process-info hook
 * into NODE_OPTIONS of every node it starts (for coverage, which is off); it
 * costs each child a loader thread, so it is dropped.
 */
export function childEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const e = { ...env }
  const opts = (e.NODE_OPTIONS ?? '').split(/\s+/).filter((o) => o && !o.includes('@tapjs/processinfo'))
  if (opts.length) e.NODE_OPTIONS = opts.join(' ')
  else delete e.NODE_OPTIONS
  return e
}
