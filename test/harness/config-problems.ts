/** The problems the gateway's config loader reports for a YAML text, or null when it accepts it. */
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
