/**
 * The systemd unit `safehouse install` writes (issue 7 §5).
 *
 * Type=notify with a watchdog: `safehouse run` reports READY=1 once the
 * gateway has started and WATCHDOG=1 every WatchdogSec/2 from its event loop
 * (provisioning/shared/systemd-notify.ts, through the `systemd-notify` tool:
 * Node's core has no AF_UNIX datagram sockets, hence NotifyAccess=all). A
 * gateway that hangs stops pinging and systemd restarts it; one that exits or
 * crashes is restarted too (Restart=on-failure, never giving up:
 * StartLimitIntervalSec=0). The station also sees a hung gateway through the
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
    '# READY=1 once started, WATCHDOG=1 every 15 s from the event loop, sent with systemd-notify',
    '# (Node has no AF_UNIX datagrams; hence NotifyAccess=all). A hung gateway is restarted.',
    'Type=notify',
    'NotifyAccess=all',
    'WatchdogSec=30',
    'TimeoutStartSec=90',
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
