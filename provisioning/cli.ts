#!/usr/bin/env node
/**
 * The `safehouse` command: one entry point, one file per subcommand
 * (provisioning/commands/). Exit codes: 0 ok, 1 failure, 2 usage error,
 * 3 something missing/overdue (status, for monitoring).
 */
import { runDemo } from './commands/demo.js'
import { runGateway } from './commands/run.js'
import { configCheck } from './commands/config-check.js'
import { simulate } from './commands/simulate.js'
import { userAdd } from './commands/user-add.js'
import { init } from './commands/init.js'
import { pair } from './commands/pair.js'
import { walkTest } from './commands/walk-test.js'
import { status } from './commands/status.js'
import { install } from './commands/install.js'
import { station } from './commands/station.js'
import { UsageError } from './commands/usage-error.js'

const HELP = `safehouse — alarm gateway for safety houses and lookout platforms

Usage:
  safehouse init [--config FILE] [flags]      create the site config (asks, or takes flags in scripts)
  safehouse pair ble|button|lamp              find a device, pick it out, add it to the config
  safehouse walk-test                         commissioning: trigger every device, get a report
  safehouse status [--station URL] [--json]   every post and device, overdue first (exit 3 if missing)
  safehouse install [--dry-run]               systemd unit, udev rules, D-Bus policy
  safehouse demo [--once] [--manual]          run the gateway with simulated devices, a local
                                              station broker and a station console (no hardware)
  safehouse run --config FILE                 run the gateway (production)
  safehouse config check FILE                 validate a config file; lists every problem
  safehouse simulate ACTION DEVICE [ARG]      drive a simulated device of a running demo
                                              (actions: press, hold, cut, short, restore, blow, battery)
  safehouse user add NAME --role ROLE --secrets FILE [--password-stdin]
                                              add a local broker user (password stored as scrypt hash)
  safehouse station --config FILE             the police station's service: ingest, store, web console
  safehouse station user add NAME --role ROLE --config FILE
                                              add a console operator (operator, supervisor, maintainer)

Run 'safehouse COMMAND --help' for a command's options and examples.`

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  init,
  pair,
  'walk-test': walkTest,
  status,
  install,
  demo: runDemo,
  run: runGateway,
  config: async (argv) => {
    if (argv[0] !== 'check') throw new UsageError('usage: safehouse config check FILE')
    return configCheck(argv.slice(1))
  },
  simulate,
  station,
  user: async (argv) => {
    if (argv[0] !== 'add') throw new UsageError('usage: safehouse user add NAME --role ROLE --secrets FILE')
    return userAdd(argv.slice(1))
  },
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(HELP)
    return cmd ? 0 : 2
  }
  const fn = commands[cmd]
  if (!fn) {
    console.error(`safehouse: unknown command "${cmd}"\n\n${HELP}`)
    return 2
  }
  try {
    return await fn(rest)
  } catch (e) {
    // parseArgs' own errors (unknown option, missing value) are usage errors too, in every command.
    if (e instanceof UsageError || String((e as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')) {
      console.error(`safehouse ${cmd}: ${(e as Error).message}`)
      return 2
    }
    console.error(`safehouse ${cmd}: ${(e as Error).message}`)
    return 1
  }
}

process.exitCode = await main(process.argv.slice(2))
