/**
 * Preload (--import) for test/provisioning/bundle.test.ts: at the process's first
 * 'listening' server (the embedded broker's), prints on stderr the npm packages
 * required from node_modules so far. A package inlined in the bundle is never
 * required from node_modules, so it is absent from the list. Also whether
 * process.stdin had been made by then (`run` never reads it; issue 13 §5).
 */
import { createRequire } from 'node:module'
import net from 'node:net'

const require = createRequire(import.meta.url)
let stdinMade = false
const stdin = Object.getOwnPropertyDescriptor(process, 'stdin')
Object.defineProperty(process, 'stdin', { configurable: true, enumerable: stdin.enumerable, get() { stdinMade = true; return stdin.get.call(this) } })
const listen = net.Server.prototype.listen
let first = true
net.Server.prototype.listen = function (...args) {
  if (first) {
    first = false
    this.once('listening', () => {
      const pk = new Set()
      for (const k of Object.keys(require.cache)) { const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(k); if (m) pk.add(m[1]) }
      process.stderr.write('LOADED-AT-LISTEN ' + [...pk].sort().join(',') + '\n')
      process.stderr.write(`STDIN-AT-LISTEN ${stdinMade ? 'made' : 'untouched'}\n`)
    })
  }
  return listen.apply(this, args)
}
