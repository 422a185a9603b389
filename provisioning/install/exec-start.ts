/**
 * The command line systemd should run: this very CLI, by absolute paths
 * (systemd does not search $PATH the way a shell does, and a symlink such as
 * /usr/local/bin/safehouse may be replaced by a later npm install). Node is
 * named explicitly rather than trusting the `#!/usr/bin/env node` line.
 */
import { existsSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'

export interface ExecStart {
  argv: string[]
  workingDirectory: string | null
  warning: string | null
}

export function cliExecStart(configFile: string, entry = process.argv[1], node = process.execPath): ExecStart {
  const cli = realpathSync(entry)
  if (!cli.endsWith('.ts')) return { argv: [node, cli, 'run', '--config', configFile], workingDirectory: null, warning: null }
  // From sources (a git checkout run through tsx): `--import tsx` is resolved from the
  // working directory, so the unit runs in the package directory.
  let dir = dirname(cli)
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  return {
    argv: [node, '--import', 'tsx', cli, 'run', '--config', configFile],
    workingDirectory: dir,
    warning: `running from TypeScript sources (${cli}); for production install the built package (npm run build, or npm install -g) and re-run safehouse install from it`,
  }
}
