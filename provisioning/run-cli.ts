/**
 * What the `safehouse` command does, as a function (issue 14 §5): runCli(argv, io)
 * dispatches to one file per subcommand (provisioning/commands/) and returns the
 * exit code: 0 ok, 1 failure, 2 usage error, 3 something missing/overdue
 * (status, for monitoring). The binary is cli.ts.
 */
import { UsageError, asSubcommand, isParseArgsError, parseArgsMessage, usageText } from './commands/usage-error.js'
import { VERSION } from '../gateway/version.js'
import { type CliIO, println, processIO } from './cli-io.js'

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

  safehouse --version                         print the version

Run 'safehouse COMMAND --help' for a command's options and examples.`

type Command = (argv: string[], io: CliIO) => Promise<number>

/**
 * Each command's modules are loaded only when it runs (issue 13 §5): importing
 * every command up front (mqtt, aedes, ajv, johnny-five, dbus-next...) made
 * `safehouse --help` take ~5x a bare node start. One line per command.
 */
const commands: Record<string, () => Promise<Command>> = {
  init: async () => (await import('./commands/init.js')).init,
  pair: async () => (await import('./commands/pair.js')).pair,
  'walk-test': async () => (await import('./commands/walk-test.js')).walkTest,
  status: async () => (await import('./commands/status.js')).status,
  install: async () => (await import('./commands/install.js')).install,
  demo: async () => (await import('./commands/demo.js')).runDemo,
  run: async () => (await import('./commands/run.js')).runGateway,
  config: async () => async (argv, io) => {
    const { configCheck } = await import('./commands/config-check.js')
    if (argv[0] === '--help' || argv[0] === '-h') return configCheck(['--help'], io)
    if (argv[0] !== 'check') throw new UsageError(argv[0] ? `unknown subcommand "${argv[0]}" (only: config check FILE)` : 'missing subcommand (only: config check FILE)', 'config check')
    return asSubcommand('config check', () => configCheck(argv.slice(1), io))
  },
  simulate: async () => (await import('./commands/simulate.js')).simulate,
  station: async () => (await import('./commands/station.js')).station,
  user: async () => async (argv, io) => {
    const { userAdd } = await import('./commands/user-add.js')
    if (argv[0] === '--help' || argv[0] === '-h') return userAdd(['--help'], io)
    if (argv[0] !== 'add') throw new UsageError(argv[0] ? `unknown subcommand "${argv[0]}" (only: user add NAME ...)` : 'missing subcommand (only: user add NAME ...)', 'user add')
    return asSubcommand('user add', () => userAdd(argv.slice(1), io))
  },
}

/**
 * Run one `safehouse` command line and return its exit code (issue 14 §5): the
 * installed binary (cli.ts) calls it with the process's streams; tests call it
 * in-process with their own (test/harness/cli-in-process.ts). It never calls
 * process.exit. init, config check, user add and status write only to `io`;
 * the long-running commands (run, demo, station, simulate, walk-test) and
 * pair and install own the process (signals, a terminal, hardware, systemctl)
 * and still use the process's streams: run them as a process.
 */
export async function runCli(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [cmd, ...rest] = argv
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    println(io.stdout, HELP)
    return cmd ? 0 : 2
  }
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
    println(io.stdout, `safehouse ${VERSION}`)
    return 0
  }
  const load = Object.hasOwn(commands, cmd) ? commands[cmd] : undefined
  if (!load) {
    println(io.stderr, `safehouse: ${cmd.startsWith('-') ? `unknown option ${cmd}` : `unknown command "${cmd}"`}\nrun \`safehouse --help\``)
    return 2
  }
  try {
    return await (await load())(rest, io)
  } catch (e) {
    // One voice for every command (issue 14): exit 2, the mistake, then where to read the options.
    // parseArgs' own errors (unknown option, missing value) are usage errors too.
    if (e instanceof UsageError) {
      println(io.stderr, usageText(e.command ?? cmd, e.message))
      return 2
    }
    if (isParseArgsError(e)) {
      println(io.stderr, usageText(cmd, parseArgsMessage(e)))
      return 2
    }
    println(io.stderr, `safehouse ${cmd}: ${(e as Error).message}`)
    return 1
  }
}

