/** Preload (--import) for test/provisioning/cli-lazy.test.ts: prints the npm packages this process loaded, at exit, on stderr. */
import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
process.on('exit', () => {
  const pk = new Set()
  for (const k of Object.keys(require.cache)) { const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(k); if (m) pk.add(m[1]) }
  process.stderr.write('LOADED ' + [...pk].sort().join(',') + '\n')
})
