/**
 * The command line systemd should run: this very CLI, by absolute paths
 * (systemd does not search $PATH the way a shell does, and a symlink such as
 * /usr/local/bin/safehouse may be replaced by a later npm install). Node is
 * named explicitly rather than trusting the `#!/usr/bin/env node` line.
 */
import { existsSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * V8 flags for the service (issue 13 §6; docs/decisions.md "V8 flags for the service"): a young
 * generation of at most 1 MiB per semi-space (V8's default grows to 16 MiB; the gateway's live heap
 * is ~12 MiB, and an alert allocates ~50 bytes) and one V8 helper thread instead of four (each
 * one's malloc arena and stack stayed resident). Measured on `safehouse run` with a typical post:
 * idle RSS ~88 -> ~71 MiB (2 MiB semi-spaces), -2 MiB more with 1 MiB. On the ExecStart line, not in NODE_OPTIONS, so every other node the
 * service user runs is untouched.
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=1', '--v8-pool-size=1'] as const

export interface ExecStart {
  argv: string[]
  workingDirectory: string | null
  warning: string | null
  /**
   * The command that writes the config validator's V8 code cache for this node under the service's
   * flags (V8 refuses a cache made by another Node.js build or under other flags; issue 13 §5,
   * gateway/config/config-validator.ts), when the CLI is the bundle that reads one; null otherwise.
   */
  validatorCache: string[] | null
}

/** Beside the bundle's cli.js (provisioning/build/bundle-cli.ts, its second entry). */
const VALIDATOR_CACHE_WRITER = 'write-validator-cache.js'

export function cliExecStart(configFile: string, entry = process.argv[1], node = process.execPath): ExecStart {
  const cli = realpathSync(entry)
  if (!cli.endsWith('.ts')) {
    const writer = join(dirname(cli), VALIDATOR_CACHE_WRITER)
    return {
      argv: [node, ...SERVICE_NODE_FLAGS, cli, 'run', '--config', configFile], workingDirectory: null, warning: null,
      validatorCache: existsSync(writer) ? [node, ...SERVICE_NODE_FLAGS, writer] : null,
    }
  }
  // From sources (a git checkout run through tsx): `--import tsx` is resolved from the
  // working directory, so the unit runs in the package directory.
  let dir = dirname(cli)
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  return {
    argv: [node, ...SERVICE_NODE_FLAGS, '--import', 'tsx', cli, 'run', '--config', configFile],
    workingDirectory: dir,
    validatorCache: null,
    warning: `running from TypeScript sources (${cli}); for production install the built package (npm run build, or npm install -g) and re-run safehouse install from it`,
  }
}
