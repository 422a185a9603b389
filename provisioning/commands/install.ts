/**
 * `safehouse install` (issue 7 §5): the systemd unit, udev rules giving the
 * Firmata boards and the RS-485 adapter stable names, and the D-Bus policy
 * for BlueZ, all derived from the site config; then the service user, the
 * data directory, and systemctl/udevadm. --dry-run prints all of it and
 * touches nothing; --prefix writes the files under another root (an SD card
 * image, tests) and runs no command. Safe to re-run: it is how a technician
 * applies a changed config (new boards, new data_dir) to the system.
 */
import { parseArgs } from 'node:util'
import { resolve } from 'node:path'
import { DEFAULT_CONFIG } from '../shared/defaults.js'
import { parseFlags, UsageError } from './usage-error.js'
import { type CliIO, println, processIO } from '../cli-io.js'

const HELP = `usage: safehouse install [--config FILE] [--user NAME] [--prefix DIR] [--dry-run] [--no-start]
                         [--firmata-serial [BOARD=]SERIAL]... [--rs485-serial SERIAL]

Installs the gateway as a service from the site config (default ${DEFAULT_CONFIG}):
  /etc/systemd/system/safehouse.service   runs 'safehouse run --config FILE' as the service user,
                                          restarts it on failure, hardened (read-only system,
                                          writable data_dir only)
  /etc/udev/rules.d/99-safehouse.rules    /dev/safehouse-firmata-<board id> and /dev/safehouse-rs485
                                          by USB serial number (read with udevadm from the ports in
                                          the config, or given with the flags below)
  /etc/dbus-1/system.d/safehouse.conf     lets the service user talk to BlueZ (org.bluez)
then creates the service user and data directory and runs udevadm and systemctl
(daemon-reload, enable, restart). Re-run it after pairing boards or the lamp box.

Options:
  --config FILE              the site config (default ${DEFAULT_CONFIG})
  --user NAME                service user (default safehouse; created when missing)
  --prefix DIR               write the files under DIR instead of / and run no command
  --dry-run                  print every file with its path and the commands; change nothing
  --no-start                 enable the service but do not (re)start it now
  --firmata-serial [BOARD=]SERIAL
                             USB serial number of a Firmata board (BOARD may be left out when the
                             config has one board); repeatable
  --rs485-serial SERIAL      USB serial number of the lamp box's RS-485 adapter

Examples:
  sudo safehouse install
  safehouse install --dry-run --config /etc/safehouse/config.yaml
  sudo safehouse install --firmata-serial nano=75833353035351F0E1A1 --rs485-serial A10KXYZ3
  safehouse install --prefix /mnt/sdcard-root --config /mnt/sdcard-root/etc/safehouse/config.yaml`

export async function install(argv: string[], io: CliIO = processIO()): Promise<number> {
  const { values: v } = parseFlags(() => parseArgs({ args: argv, allowPositionals: false, options: {
    config: { type: 'string' }, user: { type: 'string' }, prefix: { type: 'string' }, 'dry-run': { type: 'boolean' },
    'no-start': { type: 'boolean' }, 'firmata-serial': { type: 'string', multiple: true }, 'rs485-serial': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  } }), `\n\nRun 'safehouse install --help' for the options.`)
  if (v.help) {
    println(io.stdout, HELP)
    return 0
  }
  // Loaded only when install runs, not for --help (issue 13 §5: yaml, the config loader, the plan).
  const [{ loadConfig }, { ConfigError }, { buildInstallPlan }, { renderDryRun, runPlannedCommands, shellLine, writePlannedFiles }, { cliExecStart }, { readUsbIdentity, UDEV_VALUE }] = await Promise.all([
    import('../../gateway/config/load-config.js'), import('../../gateway/config/config-error.js'), import('../install/install-plan.js'),
    import('../install/apply-plan.js'), import('../install/exec-start.js'), import('../install/usb-identity.js'),
  ])
  const user = v.user ?? 'safehouse'
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw new UsageError(`--user "${user}": a system user name is 1-32 lower-case letters, digits, "_" or "-", starting with a letter or "_"`)
  const prefix = resolve(v.prefix ?? '/')
  const dryRun = !!v['dry-run']
  const configFile = resolve(v.config ?? DEFAULT_CONFIG)
  const progress = (line: string) => io.stderr.write(`${line}\n`)

  if (!dryRun && prefix === '/' && process.getuid?.() !== 0) {
    println(io.stderr, 'safehouse install: writing to /etc and running systemctl needs root: run with sudo (or look first with --dry-run)')
    return 1
  }
  let config
  try {
    config = loadConfig(configFile)
  } catch (e) {
    if (e instanceof ConfigError) {
      println(io.stderr, `${e.message}\nfix the config first (safehouse config check ${configFile}); nothing was installed`)
      return 1
    }
    throw e
  }
  const firmataSerials = new Map<string, string>()
  for (const f of v['firmata-serial'] ?? []) {
    const eq = f.indexOf('=')
    let board = eq >= 0 ? f.slice(0, eq) : null
    const serial = eq >= 0 ? f.slice(eq + 1) : f
    if (board === null) {
      if (config.boards.length !== 1) throw new UsageError(`--firmata-serial ${serial}: the config has ${config.boards.length} boards; write BOARD=SERIAL (boards: ${config.boards.map((b) => b.id).join(', ') || 'none'})`)
      board = config.boards[0].id
    }
    if (!config.boards.some((b) => b.id === board)) throw new UsageError(`--firmata-serial: no board "${board}" in ${configFile} (boards: ${config.boards.map((b) => b.id).join(', ') || 'none; pair a button first'})`)
    if (!UDEV_VALUE.test(serial)) throw new UsageError(`--firmata-serial ${board}: "${serial}" is not a USB serial number as udev shows it (ID_SERIAL_SHORT)`)
    firmataSerials.set(board, serial)
  }
  const rs485 = v['rs485-serial'] ?? null
  if (rs485 !== null) {
    if (!config.devices.some((d) => d.kind === 'lamp-box' && d.driver === 'modbus')) throw new UsageError(`--rs485-serial: ${configFile} has no lamp box with driver: modbus (pair it first: safehouse pair lamp)`)
    if (!UDEV_VALUE.test(rs485)) throw new UsageError(`--rs485-serial: "${rs485}" is not a USB serial number as udev shows it (ID_SERIAL_SHORT)`)
  }

  if (!dryRun) progress(`installing safehouse for post ${config.post} (site ${config.site}) from ${configFile}${prefix === '/' ? '' : ` under ${prefix}`}`)
  const plan = buildInstallPlan({
    config, configFile, user, prefix, start: !v['no-start'], exec: cliExecStart(configFile),
    firmataSerials, rs485Serial: rs485, lookup: readUsbIdentity,
  })
  for (const w of plan.warnings) progress(`warning: ${w}`)

  if (dryRun) {
    io.stdout.write(renderDryRun(plan, prefix))
    for (const h of plan.hints) progress(`then: ${h}`)
    progress('dry run: nothing was written or run')
    return 0
  }

  writePlannedFiles(plan, prefix, progress)
  if (prefix !== '/') {
    progress(`--prefix ${prefix}: no command was run; on the target run:`)
    for (const c of plan.commands) progress(`  ${shellLine(c.argv)}`)
    for (const h of plan.hints) progress(`then: ${h}`)
    println(io.stdout, `safehouse: ${plan.files.length} files written under ${prefix}`)
    return 0
  }
  const failed = runPlannedCommands(plan.commands, progress)
  for (const h of plan.hints) progress(`then: ${h}`)
  if (failed.length) {
    println(io.stderr, `safehouse install: the files are written, but ${failed.length} command(s) failed:\n${failed.map((f) => `  ${f}`).join('\n')}\nfix the cause and re-run safehouse install (it is safe to repeat)`)
    return 1
  }
  println(io.stdout, `safehouse installed: ${plan.files.map((f) => f.path).join(', ')}; service ${v['no-start'] ? 'enabled (start it: sudo systemctl start safehouse)' : 'enabled and started'}.
Logs: journalctl -u safehouse -f    State: safehouse status`)
  return 0
}
