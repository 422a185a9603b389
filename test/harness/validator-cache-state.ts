/**
 * Child process for test/gateway/config/config-validator-cache.test.ts: compiles
 * the config validator with the cache FILE and prints how (the state) as JSON.
 * A fresh process each time: within one process V8 finds a script it compiled
 * before in its own in-memory cache and never looks at the file's data.
 *
 *   node [FLAGS] --import tsx test/harness/validator-cache-state.ts FILE
 */
import { compileValidator } from '../../gateway/config/config-validator.js'

const { validate, state } = compileValidator(process.argv[2])
const data = { site: 's1', post: 'p1' }
console.log(JSON.stringify({ state, valid: validate(data), data }))
