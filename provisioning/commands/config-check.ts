/**
 * `safehouse config check FILE`: every problem, with line, path and hint; exit
 * 1 if any. Besides the gateway's own validation it checks what `run` would
 * meet only at start: the secrets file, keys and passwords named by the config,
 * the TLS key's mode, supervised loop thresholds (issue 14 §2).
 */
import { parseArgs } from 'node:util'
import { parseFlags, UsageError } from './usage-error.js'
import { type CliIO, println, processIO } from '../cli-io.js'

const USAGE = `usage: safehouse config check FILE

Validates the config like \`safehouse run\` does, and the secrets file, keys and passwords it names,
the TLS client key's mode and supervised loop thresholds. Lists every problem with its line and a hint.
Exit codes: 0 OK, 1 problems found, 2 usage.

Example:
  safehouse config check /etc/safehouse/config.yaml`

export async function configCheck(argv: string[], io: CliIO = processIO()): Promise<number> {
  const { values, positionals } = parseFlags(() => parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } }))
  if (values.help) {
    println(io.stdout, USAGE)
    return 0
  }
  const [file, extra] = positionals
  if (!file) throw new UsageError('give the config FILE to check')
  if (extra !== undefined) throw new UsageError(`unexpected argument "${extra}" (one FILE at a time)`)
  // The validator loads after the usage checks, so `config check --help` stays fast (issue 13 §5).
  const [{ ConfigError }, { loadConfig }, { urlForLog }, { secretRules }, { endpointRules }, { stationPaths }] = await Promise.all([
    import('../../gateway/config/config-error.js'), import('../../gateway/config/load-config.js'), import('../../gateway/log-url.js'), import('../config-check/secret-rules.js'),
    import('../config-check/endpoint-rules.js'), import('../../gateway/config/station-paths.js'),
  ])
  try {
    const secrets = secretRules(io.env)
    const endpoints = endpointRules()
    const c = loadConfig(file, (cfg) => [...secrets(cfg), ...endpoints(cfg)])
    const station = stationPaths(c.station).map((p) => (p.name === 'primary' ? '' : `${p.name}: `) + p.endpoints.map((u) => urlForLog(u)).join(', ')).join('; ')
    println(io.stdout, `${file}: OK — site ${c.site}, post ${c.post}, ${c.devices.length} device(s), station ${station || 'none (local only)'}`)
    return 0
  } catch (e) {
    if (e instanceof ConfigError) {
      println(io.stderr, e.message)
      return 1
    }
    throw e
  }
}
