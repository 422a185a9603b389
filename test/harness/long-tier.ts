/**
 * The suite's two tiers (issue 14 §5: `npm test` under five minutes on an idle
 * two-core machine, nothing dropped from CI). `.ci/run` exports
 * SAFEHOUSE_SOAK=long and runs the same `npm test`; the long tier runs only there.
 *
 * A whole file joins the long tier with ONE line, as its first import:
 *
 *     import '../harness/long-tier.js'
 *
 * Without SAFEHOUSE_SOAK=long the file then reports itself skipped (tap's
 * `1..0 # SKIP`, with the reason naming SAFEHOUSE_SOAK=long, counted as a skip
 * in the totals) and exits before its other imports load or any test starts.
 * The README ("Run the tests") lists the files in the long tier.
 *
 * For a single case or a length use `LONG` / `longOnly()` from ./soak-tier.js.
 */
import t from 'tap'
import { basename } from 'node:path'
import { LONG } from './soak-tier.js'

if (!LONG) {
  const file = basename(process.argv[1] ?? 'this file')
  t.plan(0, `long tier: ${file} runs only with SAFEHOUSE_SOAK=long (.ci/run; README "Run the tests")`)
  // Nothing else of the file may run: its remaining imports (brokers, clusters) are not even loaded.
  process.exit(0)
}
