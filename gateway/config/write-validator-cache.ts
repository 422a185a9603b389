/**
 * Writes the config validator's V8 code cache (default: beside the module
 * that reads it, config-validator.ts) for the Node.js build and V8 flags this
 * process runs with: run it under the service's flags (SERVICE_NODE_FLAGS,
 * provisioning/install/exec-start.ts), or V8 refuses the cache at the
 * service's start. `npm run build` runs the bundle's copy
 * (dist/bundle/write-validator-cache.js), and `safehouse install` runs it
 * again on the post with the node the unit runs.
 *
 *   node --max-semi-space-size=1 --v8-pool-size=1 dist/bundle/write-validator-cache.js [FILE]
 */
import { VALIDATOR_CACHE_FILE, writeValidatorCache } from './config-validator.js'

const file = process.argv[2] ?? VALIDATOR_CACHE_FILE
writeValidatorCache(file)
console.log(`wrote ${file}`)
