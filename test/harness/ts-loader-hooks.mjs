/**
 * Module hooks for ts-loader.mjs (they run in node's loader thread).
 * resolve: `./x.js` imported from a .ts file is `./x.ts` when that exists
 * (NodeNext style imports, as tsc checks them). load: a .ts file (with or
 * without a query, e.g. `cli.ts?case=3`) is transpiled by esbuild with the
 * repo's tsconfig, inline source map for stack traces; the output is cached
 * in node_modules/.cache/safehouse-ts under a hash of path, source and options.
 */
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CACHE = `${ROOT}node_modules/.cache/safehouse-ts`
const TS = /\.ts(?:$|[?#])/
const { compilerOptions } = JSON.parse(readFileSync(`${ROOT}tsconfig.json`, 'utf8'))
const OPTIONS = {
  loader: 'ts',
  format: 'esm',
  target: `node${process.versions.node}`,
  sourcemap: 'inline',
  tsconfigRaw: { compilerOptions },
}
const SALT = JSON.stringify(OPTIONS)
/** esbuild is loaded only when a file is not in the cache yet. */
let esbuild = null

export async function resolve(specifier, context, next) {
  if (specifier.endsWith('.js') && (specifier.startsWith('./') || specifier.startsWith('../')) && context.parentURL && TS.test(context.parentURL)) {
    try {
      return await next(`${specifier.slice(0, -3)}.ts`, context)
    } catch {
      // not a .ts module: resolve the .js as it is written
    }
  }
  return next(specifier, context)
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !TS.test(url)) return next(url, context)
  const path = fileURLToPath(url.replace(/[?#].*$/, ''))
  const source = readFileSync(path, 'utf8')
  const key = createHash('sha256').update(SALT).update('\0').update(path).update('\0').update(source).digest('hex').slice(0, 32)
  const cached = `${CACHE}/${key}.js`
  let code
  try {
    code = readFileSync(cached, 'utf8')
  } catch {
    esbuild ??= await import('esbuild')
    code = esbuild.transformSync(source, { ...OPTIONS, sourcefile: path }).code
    mkdirSync(CACHE, { recursive: true })
    const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`
    writeFileSync(tmp, code)
    renameSync(tmp, cached) // atomic: a concurrent test process reads a whole file or none
  }
  return { format: 'module', source: code, shortCircuit: true }
}
