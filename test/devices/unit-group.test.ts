/**
 * The quick unit test files under test/devices/ that share this one process
 * (issue 14 §5): the ones package.json "tap".exclude lists, each as a subtest
 * named after its file. How and why: test/harness/unit-group.ts.
 */
import { runUnitGroup } from '../harness/unit-group.js'

await runUnitGroup(import.meta.url)
