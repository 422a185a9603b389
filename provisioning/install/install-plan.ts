/**
 * What `safehouse install` will do, worked out before anything is touched, so
 * --dry-run prints exactly what a real run writes and runs: the files (target
 * path, content, mode), the commands, warnings and hints for the technician.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from '../../gateway/config/config-types.js'
import { renderUnit } from './systemd-unit.js'
import { renderDbusPolicy } from './dbus-policy.js'
import { renderUdevRules, ruleActive, serialTargets, UDEV_RULES_FILE, type TargetIdentity } from './udev-rules.js'
import type { IdentityLookup } from './usb-identity.js'
import type { ExecStart } from './exec-start.js'

export const UNIT_FILE = '/etc/systemd/system/safehouse.service'
export const DBUS_POLICY_FILE = '/etc/dbus-1/system.d/safehouse.conf'

export interface PlannedFile { path: string; content: string; mode: number; what: string }
export interface PlannedCommand { argv: string[]; why: string }

export interface InstallPlan {
  files: PlannedFile[]
  /** Run only when installing into / (as root). */
  commands: PlannedCommand[]
  warnings: string[]
  hints: string[]
}

export interface PlanInput {
  config: Readonly<Config>
  configFile: string
  user: string
  prefix: string
  /** Restart the service at the end. */
  start: boolean
  exec: ExecStart
  /** Board id -> USB serial number given on the command line. */
  firmataSerials: Map<string, string>
  rs485Serial: string | null
  lookup: (port: string) => IdentityLookup
}

/** Names in an /etc/passwd- or /etc/group-style file under the prefix; null when there is none. */
function namesIn(prefix: string, file: string): Set<string> | null {
  const f = join(prefix, file)
  if (!existsSync(f)) return null
  return new Set(readFileSync(f, 'utf8').split('\n').map((l) => l.split(':')[0]).filter(Boolean))
}

const HOME_DIRS = ['/home/', '/root/', '/run/user/']

export function buildInstallPlan(i: PlanInput): InstallPlan {
  const { config: c, user } = i
  const warnings: string[] = []
  const hints: string[] = []
  const commands: PlannedCommand[] = []
  if (i.exec.warning) warnings.push(i.exec.warning)

  // Groups that do not exist make systemd refuse to start the unit (status 216/GROUP).
  const wanted = ['dialout', 'bluetooth']
  if (c.devices.some((d) => d.kind === 'panic-button' && d.driver === 'gpio')) wanted.push('input')
  const groups = namesIn(i.prefix, 'etc/group')
  const present = groups ? wanted.filter((g) => groups.has(g)) : wanted
  for (const g of wanted.filter((g) => !present.includes(g))) {
    const why = g === 'bluetooth' ? ' (is bluez installed? sudo apt-get install bluez)' : ''
    warnings.push(`group "${g}" does not exist${why}: left out of SupplementaryGroups; re-run safehouse install once it exists`)
  }

  const users = namesIn(i.prefix, 'etc/passwd')
  if (users && !users.has(user)) {
    if (i.prefix === '/') commands.push({ argv: ['useradd', '--system', '--user-group', '--home-dir', c.data_dir, '--no-create-home', '--shell', '/usr/sbin/nologin', user], why: `create the service user ${user}` })
    else warnings.push(`user "${user}" is not in ${join(i.prefix, 'etc/passwd')}: create it on the target (useradd --system --user-group ${user})`)
  }

  const tls = [c.station.ca_file, c.station.cert_file, c.station.key_file].filter((f): f is string => !!f)
  const read = [...i.exec.argv.filter((a) => a.startsWith('/')), i.exec.workingDirectory ?? '', i.configFile, c.secrets_file ?? '', ...tls, c.data_dir]
  const inHome = read.filter((p) => HOME_DIRS.some((h) => p.startsWith(h)))
  if (inHome.length) warnings.push(`${inHome[0]} is under a home directory: the unit uses ProtectHome=read-only instead of yes; install Node and safehouse system-wide and keep the config in /etc/safehouse`)

  const unit = renderUnit({
    user, groups: present, execStart: i.exec.argv, workingDirectory: i.exec.workingDirectory, dataDir: c.data_dir,
    protectHome: inHome.length ? 'read-only' : 'yes', site: c.site, post: c.post, configFile: i.configFile,
  })

  const items: TargetIdentity[] = serialTargets(c).map((target) => {
    const given = target.kind === 'firmata' ? i.firmataSerials.get(target.id) : i.rs485Serial ?? undefined
    const seen = i.lookup(target.port)
    if (given) {
      // udev's vendor/product are kept only when it is the same device.
      const same = seen.ok && seen.value.serial === given
      return { target, note: null, identity: same ? seen.value : { vendor: null, model: null, serial: given, path: null, source: 'the command line' } }
    }
    if (seen.ok) return { target, identity: seen.value, note: null }
    return { target, identity: null, note: seen.error, notUsb: seen.notUsb }
  })
  for (const it of items) {
    const t = it.target
    if (it.notUsb) continue
    if (!ruleActive(it)) {
      warnings.push(`${t.where} (${t.id}): USB identity unknown (${it.note ?? 'no serial number or socket'}): its udev rule is written commented out; plug it in and re-run, or pass ${t.kind === 'firmata' ? `--firmata-serial ${t.id}=SERIAL` : '--rs485-serial SERIAL'}`)
    } else if (t.port !== `/dev/${t.link}`) {
      hints.push(`${t.where} (${t.id}): set port: /dev/${t.link} in ${i.configFile} (${t.port} can change after a replug), then: safehouse config check ${i.configFile}`)
    }
  }

  const files: PlannedFile[] = [
    { path: UNIT_FILE, content: unit, mode: 0o644, what: 'systemd unit' },
    { path: UDEV_RULES_FILE, content: renderUdevRules(items, i.configFile), mode: 0o644, what: 'udev rules' },
    { path: DBUS_POLICY_FILE, content: renderDbusPolicy(user), mode: 0o644, what: 'D-Bus policy for BlueZ' },
  ]

  commands.push({ argv: ['install', '-d', '-m', '0700', '-o', user, c.data_dir], why: 'data directory, writable by the service user only' })
  // writeSecrets creates the file as whoever ran init or pair (root): give it to the service.
  if (c.secrets_file && existsSync(c.secrets_file)) commands.push({ argv: ['chown', `${user}:`, c.secrets_file], why: 'the service reads its secrets (mode 0600)' })
  else if (c.secrets_file) warnings.push(`secrets file ${c.secrets_file} does not exist: the gateway will not start without it; create it with safehouse init or safehouse user add`)
  if (c.station.key_file) commands.push({ argv: ['chown', `${user}:`, c.station.key_file], why: 'the service reads its TLS client key' })
  // Written for the node and V8 flags of ExecStart: the one in the package was made where it was built.
  if (i.exec.validatorCache) commands.push({ argv: i.exec.validatorCache, why: 'the config validator\'s compiled code for this Node.js (a faster start)' })
  commands.push(
    { argv: ['udevadm', 'control', '--reload'], why: 'load the new udev rules' },
    { argv: ['udevadm', 'trigger', '--subsystem-match=tty', '--action=add'], why: 'apply them to the ports plugged in now' },
    { argv: ['systemctl', 'daemon-reload'], why: 'load the unit' },
    { argv: ['systemctl', 'enable', 'safehouse.service'], why: 'start at boot' },
  )
  if (i.start) commands.push({ argv: ['systemctl', 'restart', 'safehouse.service'], why: 'start (or restart) the gateway now' })
  return { files, commands, warnings, hints }
}
