/** The problems the gateway's config loader reports for a YAML text, or null when it accepts it. */
import type { Test } from 'tap'
import { parseConfig } from '../../gateway/config/load-config.js'
import { ConfigError, type ConfigProblem } from '../../gateway/config/config-error.js'

export function configProblems(text: string): readonly ConfigProblem[] | null {
  try {
    parseConfig(text, 'test.yaml')
  } catch (e) {
    if (e instanceof ConfigError) return e.problems
    throw e
  }
  return null
}

/** One expected problem: its path, line, and what its message and hint say. */
export interface WantProblem { path: string; line: number | null; message: RegExp; hint: RegExp }

/** Runs a table of refused configs: each case gets exactly its problems, each at its line with its hint. */
export function checkProblemTable(t: Test, cases: readonly { name: string; text: string; want: readonly WantProblem[] }[]): void {
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const got = configProblems(c.text)
      if (got === null) t.fail('config was accepted but should have been refused')
      t.equal(got?.length ?? 0, c.want.length, 'number of problems: ' + JSON.stringify(got))
      for (const w of c.want) {
        const p = got?.find((g) => g.path === w.path && w.message.test(g.message))
        if (!t.ok(p, `a problem at "${w.path}" matching ${w.message}: ${JSON.stringify(got)}`)) continue
        t.equal(p!.line, w.line, `${w.path}: line`)
        t.match(p!.hint, w.hint, `${w.path}: hint`)
      }
    })
  }
}
