/**
 * The systemd unit `safehouse install` writes (issue 7 §5).
 *
 * Type=exec, not Type=notify: readiness and a WatchdogSec= heartbeat need
 * sd_notify, a datagram on the AF_UNIX socket in $NOTIFY_SOCKET, and Node's
 * core has no AF_UNIX datagram sockets (nodejs/node#29339, #61933; dgram is
 * UDP only). The only dependency-free route, spawning `systemd-notify` with
 * NotifyAccess=all, is not wired into `safehouse run`; a WatchdogSec= that
 * nobody pings would kill a healthy gateway every period. So systemd restarts
 * a gateway that exits or crashes (Restart=on-failure, never giving up:
 * StartLimitIntervalSec=0), and a hung one is seen by the station through the
 * MQTT keepalive and the retained Last Will "offline" (docs/protocol.md).
 */

export interface UnitOptions {
  user: string
  /** Supplementary groups that exist on the target (dialout: serial; bluetooth: BlueZ; input: GPIO buttons). */
  groups: string[]
  /** Program and arguments, absolute paths. */
  execStart: string[]
  /** Set when the CLI runs from TypeScript sources (tsx resolves from the package directory). */
  workingDirectory: string | null
  dataDir: string
  /** "yes" hides /home, /root, /run/user; "read-only" when the CLI or config lives there. */
  protectHome: 'yes' | 'read-only'
  site: string
  post: string
  configFile: string
}

/**
 * One word of a unit file line: quoted when it has spaces or quotes
 * (systemd.syntax(7)), with "%" (specifiers) and "$" (variables) escaped.
 */
export function unitWord(s: string): string {
  const quoted = /[\s"'\\]/.test(s) ? `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : s
  return quoted.replace(/%/g, '%%').replace(/\$/g, '$$$$')
}

export function renderUnit(o: UnitOptions): string {
  const lines = [
    `# safehouse.service: written by \`safehouse install\` for ${o.configFile}.`,
    '# A re-run of `sudo safehouse install` overwrites this file: put local changes in',
    '# `sudo systemctl edit safehouse` (a drop-in) instead. Guide: docs/install.md.',
    '[Unit]',
    `Description=safehouse alarm gateway (post ${o.post}, site ${o.site})`,
    'After=network-online.target bluetooth.service',
    'Wants=network-online.target',
    '# An alarm gateway never gives up restarting (the default stops after 5 failures in 10 s).',
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    '# No sd_notify in Node core (no AF_UNIX datagrams), hence Type=exec and no WatchdogSec=;',
    '# a hung gateway shows at the station as "offline" (MQTT keepalive + Last Will).',
    'Type=exec',
    `User=${o.user}`,
    `Group=${o.user}`,
  ]
  if (o.groups.length) lines.push(`SupplementaryGroups=${o.groups.join(' ')}`)
  if (o.workingDirectory) lines.push(`WorkingDirectory=${unitWord(o.workingDirectory)}`)
  lines.push(
    `ExecStart=${o.execStart.map(unitWord).join(' ')}`,
    'Restart=on-failure',
    'RestartSec=5',
    '# The gateway flushes its outbox and replay counters on SIGTERM.',
    'TimeoutStopSec=20',
    'UMask=0077',
    '',
    '# Hardening. Not used: PrivateDevices (the serial boards, the RS-485 adapter and /dev/input',
    '# are needed) and MemoryDenyWriteExecute (V8 compiles JavaScript to machine code).',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    `ReadWritePaths=${unitWord(o.dataDir)}`,
    `ProtectHome=${o.protectHome}`,
    'PrivateTmp=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectControlGroups=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  )
  return lines.join('\n')
}
