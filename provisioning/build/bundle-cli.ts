/**
 * The `safehouse` binary as a bundle (issue 13 §5: the embedded broker
 * accepts within 300 ms of spawn): `npm run build` runs this after tsc and
 * writes dist/bundle/cli.js, which package.json's `bin` names. Node's ES module
 * and CommonJS loaders paid per file (resolve, read, compile, link) for the 55
 * ES modules and 159 CommonJS files `safehouse run` loaded before its broker
 * listened; from the bundle it is 23 chunks (provisioning/commands/run-start.ts) and 3 CommonJS files (qlobber's).
 * bench/RESULTS.md, "Issue 13 §5 start (helper i13s, sixth session)" and the sections after it.
 *
 * What stays as it was, so the bundle behaves as the tree the tests run:
 *   - Each command still loads when it runs: the CLI's dynamic imports become
 *     separate chunks (esbuild's code splitting), so `--help` loads no command.
 *   - Same transform as the tests' copy (test/harness/prebuilt-cli.ts: esbuild,
 *     this repo's tsconfig), no minifying, names kept.
 *   - Only the packages in BUNDLED are inlined: plain JavaScript without
 *     __dirname, workers or computed requires, whose whole dependency closure is
 *     bundled too. Every other package (native addons, mqtt.js, pino-pretty,
 *     the hardware libraries, which load at first use through createRequire
 *     anyway) is required from node_modules as before.
 *   - pino is inlined though its transports run files in worker threads
 *     (pino/lib/worker.js, thread-stream's worker, found through __dirname):
 *     safehouse starts no transport (gateway/logging.ts writes to stdout or a
 *     given stream, pino-pretty as a synchronous stream in the same thread), and
 *     a transport started from the bundle would fail at once (no __dirname in an
 *     ES module), never log elsewhere. Its 29 CommonJS files were ~10-25 ms of
 *     the start before the broker listened (bench/RESULTS.md, helper i13st2).
 *   - The config validator's V8 code cache (gateway/config/config-validator.ts)
 *     is written beside the chunks, under the service's V8 flags, by the
 *     bundle's second entry (write-validator-cache.js), which `safehouse
 *     install` runs again on the post for the node the unit runs.
 *   - mqtt-packet is inlined with aedes, so mqtt.js (left in node_modules, loaded
 *     at the first station connect) has its own copy: gateway/mqtt-connect.ts
 *     turns off that copy's packet-id cache as the embedded broker does for
 *     its own (docs/decisions.md, "No packet-id cache in mqtt-packet").
 *
 *   node --import tsx provisioning/build/bundle-cli.ts [OUTDIR]   (default dist/bundle)
 */
import { build, type Metafile } from 'esbuild'
import { execFileSync } from 'node:child_process'
import { cpSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { SERVICE_NODE_FLAGS } from '../install/exec-start.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** Where `npm run build` writes the bundle; package.json's `bin` must name its cli.js. */
export const BUNDLE_DIR = join(ROOT, 'dist', 'bundle')

/**
 * The packages inlined: those `safehouse run` loads before its broker listens (the YAML parser,
 * aedes, and mqtt-packet with its stream and debug dependencies, pino with its serializers,
 * redaction and stdout writer), minus qlobber (its worker mode starts `new Worker(__filename)`). A
 * package these require and that is not listed must resolve to the same file from the bundle
 * (checked below): Node's built-ins, qlobber.
 */
export const BUNDLED = [
  'yaml',
  'aedes', 'aedes-packet', 'aedes-persistence', 'mqemitter', 'fastparallel', 'reusify', 'xtend',
  'mqtt-packet', 'bl', 'readable-stream', 'process', 'string_decoder', 'safe-buffer', 'inherits', 'process-nextick-args',
  'debug', 'ms', 'supports-color', 'has-flag',
  'pino', 'pino-std-serializers', '@pinojs/redact', 'quick-format-unescaped', 'safe-stable-stringify', 'sonic-boom', 'atomic-sleep', 'on-exit-leak-free', 'thread-stream',
]

function packageOf(specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

/** Bundle the CLI into outDir (emptied first); returns esbuild's metafile. */
export async function bundleCli(outDir = BUNDLE_DIR): Promise<Metafile> {
  rmSync(outDir, { recursive: true, force: true })
  // A package left outside that a bundled one requires is resolved from the bundle's folder at run
  // time, not from the requiring package's: the two must name the same file (no nested copy).
  const resolvedOutside: { from: string; specifier: string }[] = []
  const result = await build({
    entryPoints: { cli: join(ROOT, 'provisioning', 'cli.ts'), 'write-validator-cache': join(ROOT, 'gateway', 'config', 'write-validator-cache.ts') },
    outdir: outDir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    tsconfig: join(ROOT, 'tsconfig.json'),
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    // The bundled CommonJS packages call require() for node: modules and for the packages left outside.
    banner: { js: "import { createRequire as __safehouseRequire } from 'node:module'; const require = __safehouseRequire(import.meta.url);" },
    plugins: [{
      name: 'bundle-only-listed-packages',
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (a) => {
          if (a.path.startsWith('node:') || BUNDLED.includes(packageOf(a.path))) return undefined
          if (/node_modules/.test(a.importer)) resolvedOutside.push({ from: a.resolveDir, specifier: a.path })
          return { external: true }
        })
      },
    }],
  })
  const fromBundle = createRequire(pathToFileURL(join(outDir, 'cli.js')))
  for (const { from, specifier } of resolvedOutside) {
    const there = createRequire(pathToFileURL(join(from, 'x.js'))).resolve(specifier)
    const here = fromBundle.resolve(specifier)
    if (there !== here) throw new Error(`bundle: ${specifier} required from ${relative(ROOT, from)} is ${there}, but from the bundle ${here}: bundle it or leave its requirer outside`)
  }
  // The station console's page, found beside the module that serves it (station/web/static-files.ts).
  cpSync(join(ROOT, 'station', 'web', 'static'), join(outDir, 'static'), { recursive: true })
  // The validator's code cache for this node under the service's flags (V8 refuses it under others).
  execFileSync(process.execPath, [...SERVICE_NODE_FLAGS, join(outDir, 'write-validator-cache.js')], { stdio: ['ignore', 'ignore', 'inherit'] })
  return result.metafile
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2] ?? BUNDLE_DIR
  const meta = await bundleCli(out)
  console.log(`bundle: ${Object.keys(meta.outputs).length} files in ${relative(process.cwd(), out) || '.'}`)
}
