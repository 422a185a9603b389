/**
 * The config validator is generated code (issue 13 §5: no ajv compile at
 * start): the committed file must be what the current schema generates.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { configValidatorSource, GENERATED_FILE } from '../../../gateway/config/generate-config-validator.js'

t.test('config-validator.generated.ts matches gateway/config/schema.ts', async (t) => {
  t.ok(readFileSync(GENERATED_FILE, 'utf8') === configValidatorSource(), 'up to date (if not: npm run gen:config-validator)')
})
