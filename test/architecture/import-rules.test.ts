/**
 * Issue 18: the layer rules of DESIGN §2 as a check, not a memory. Runs
 * dependency-cruiser with `.dependency-cruiser.cjs` over the whole tree; a
 * violation fails `npm test` naming the rule and the offending import.
 * A second case proves the check bites: a throwaway tree with one import per
 * rule must fail with exactly those imports named.
 */
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const depcruise = join(repo, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs')
// dependency-cruiser parses ~470 TypeScript files twice (the tree and the probe): ~15 s idle, more on a busy machine.
t.setTimeout(180_000)

const LAYERS = ['gateway', 'devices', 'protocols', 'provisioning', 'station', 'test', 'bench']

interface Violation { rule: { name: string }; from: string; to: string; cycle?: Array<{ name: string }> }

/**
 * The repo's own cruise keeps dependency-cruiser's cache (issue 14 §5): with the `content` strategy
 * a file whose bytes changed, or a changed config, is cruised again, so an unchanged tree costs
 * ~1.8 CPU-s instead of ~7 (checked: an import added to protocols/ is still reported).
 */
function cruise(cwd: string, cache?: string): Promise<Violation[]> {
  const dirs = LAYERS.filter((d) => existsSync(join(cwd, d)))
  const cacheArgs = cache ? ['--cache', cache, '--cache-strategy', 'content'] : []
  return new Promise((res, rej) => {
    execFile(process.execPath, [depcruise, ...dirs, '--config', '.dependency-cruiser.cjs', '--output-type', 'json', ...cacheArgs], { cwd, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      // dependency-cruiser exits non-zero when it finds violations; the JSON is still complete.
      try {
        const out = JSON.parse(stdout) as { summary: { violations: Violation[] } }
        res(out.summary.violations)
      } catch {
        rej(new Error(`dependency-cruiser did not run: ${err?.message ?? ''}\n${stderr}`))
      }
    })
  })
}

const describe = (v: Violation) =>
  `${v.rule.name}: ${v.from} -> ${v.to}${v.cycle ? ` (circle: ${v.cycle.map((c) => c.name).join(' -> ')})` : ''}`

t.test('every import in the tree follows the layer rules', async (t) => {
  const violations = await cruise(repo, join(repo, 'node_modules/.cache/dependency-cruiser'))
  t.same(violations.map(describe), [], 'no import breaks DESIGN §2 (fix the import, do not relax the rule)')
})

t.test('the check names each kind of offending import', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'import-rules-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  copyFileSync(join(repo, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'))
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }))
  const files: Record<string, string> = {
    'gateway/root.ts': "import { a } from '../provisioning/cli.js'\nimport { s } from '../station/svc.js'\nexport const r = a + s\n",
    'gateway/wall-clock.ts': 'export const now = 1\n',
    'devices/driver.ts': "import { now } from '../gateway/wall-clock.js'\nexport const d = now\n",
    'protocols/codec.ts': "import { d } from '../devices/driver.js'\nexport const c = d\n",
    'provisioning/cli.ts': 'export const a = 1\n',
    'station/svc.ts': "import { r } from '../gateway/root.js'\nexport const s = 2 + (r ? 0 : 1)\n",
    'station/x.ts': "import { y } from './y.js'\nexport const x = y\n",
    'station/y.ts': "import { x } from './x.js'\nexport const y = () => x\n",
  }
  for (const [p, src] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true })
    writeFileSync(join(dir, p), src)
  }
  const found = (await cruise(dir)).map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)
  for (const expected of [
    'gateway-never-imports-provisioning: gateway/root.ts -> provisioning/cli.ts',
    'gateway-never-imports-station: gateway/root.ts -> station/svc.ts',
    'devices-import-only-protocols: devices/driver.ts -> gateway/wall-clock.ts',
    'protocols-import-nothing-of-ours: protocols/codec.ts -> devices/driver.ts',
    'station-and-gateway-apart: station/svc.ts -> gateway/root.ts',
  ]) t.ok(found.includes(expected), `names ${expected}`)
  t.ok(found.some((f) => f.startsWith('no-circular: station/x.ts -> station/y.ts') || f.startsWith('no-circular: station/y.ts -> station/x.ts')), 'names the circle')
})
