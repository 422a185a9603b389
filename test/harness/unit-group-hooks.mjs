/**
 * Module hooks for ./unit-group.ts (they run in node's loader thread; see there).
 * In a group process, `import t from 'tap'` written in one of the grouped test
 * files resolves to a one-line module whose default export is that file's own
 * subtest, so the file's top-level `t.test(...)`, `t.teardown(...)`,
 * `t.setTimeout(...)` land inside the subtest named after the file. Every other
 * importer of 'tap' (the group runner, harness code) gets the real tap.
 */

/** URLs of the grouped test files (from register()'s data). */
let grouped = new Set()

export function initialize(data) {
  grouped = new Set(data.files)
}

const SCHEME = 'safehouse-unit-group:'

export async function resolve(specifier, context, next) {
  if (specifier === 'tap' && context.parentURL && grouped.has(context.parentURL)) {
    return { url: `${SCHEME}tap?for=${encodeURIComponent(context.parentURL)}`, shortCircuit: true }
  }
  return next(specifier, context)
}

export async function load(url, context, next) {
  if (!url.startsWith(SCHEME)) return next(url, context)
  const file = decodeURIComponent(url.slice(url.indexOf('?for=') + 5))
  return {
    format: 'module',
    source: `export default globalThis[Symbol.for('safehouse.unit-group')](${JSON.stringify(file)})\n`,
    shortCircuit: true,
  }
}
