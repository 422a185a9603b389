/**
 * The site config `safehouse init` writes: plain YAML a technician can read
 * and edit, with a comment above each section saying what it is and which
 * command fills it in. Only what init asked is written; every other setting
 * keeps the schema default (gateway/config/schema.ts). Values go through the
 * yaml library's scalar writer so a path or URL is quoted when YAML needs it.
 */
import { endpointHost, isLoopbackHost, isTlsUrl } from '../../gateway/config/station-paths.js'
import { stringify } from 'yaml'
import type { InitAnswers } from './init-answers.js'

export interface ConfigTextMeta {
  configFile: string
  secretsFile: string
  /** How the answers were given, for the header ("answered at a terminal", "from flags"). */
  how: string
  date: Date
}

const y = (v: string | number | null): string => stringify(v).trimEnd()

export function renderConfig(a: InitAnswers, m: ConfigTextMeta): string {
  const out: string[] = [
    `# safehouse site config for post ${a.post} (site ${a.site}).`,
    `# Made by \`safehouse init\` on ${m.date.toISOString().slice(0, 10)} (${m.how}).`,
    '#',
    '# Next: `safehouse pair ble|button|lamp` adds the devices below; `safehouse walk-test` checks them.',
    `# After editing by hand, check it: safehouse config check ${m.configFile}`,
    '# Every setting, its default and meaning: gateway/config/schema.ts; guide: docs/install.md.',
    '# No passwords or keys here: they live in secrets_file (mode 0600).',
    '',
    `site: ${y(a.site)}`,
    `post: ${y(a.post)}`,
    `post_type: ${y(a.post_type)}    # safety_house | lookout`,
    '# Joint-defence group: the posts that answer each other\'s alarms (null = none).',
    '# Direct links to the other posts for when the station is down: group_fanout (docs/group-fanout.md).',
    `group: ${y(a.group)}`,
    '# Outbox, sequence numbers and counters; the service user must be able to write here.',
    `data_dir: ${y(a.data_dir)}`,
    '# Station password and broker password hashes (`safehouse user add`), BLE keys (`safehouse pair ble`).',
    `secrets_file: ${y(m.secretsFile)}`,
    '',
    '# json under systemd (journald); pretty on a terminal.',
    'log:',
    '  level: info',
    '  format: auto',
    '',
    '# The uplink to the station (police command room).',
    'station:',
  ]
  if (a.station.url === null) {
    out.push('  url: null    # no station: local only. mqtts://host:8883 to add one')
  } else {
    out.push(`  url: ${y(a.station.url)}`)
    // The technician chose plain MQTT to a broker off this Pi: say so in the file (require_tls is on by default, issue 16 §1).
    if (!isTlsUrl(a.station.url) && !isLoopbackHost(endpointHost(a.station.url))) out.push('  require_tls: false    # plain MQTT: only inside a VPN or a private network; mqtts:// is safer')
    out.push(`  username: ${y(a.station.username)}${a.station.username ? '    # password: station_password in secrets_file' : ''}`)
    if (a.station.ca_file) out.push(`  ca_file: ${y(a.station.ca_file)}`)
    if (a.station.cert_file) out.push(`  cert_file: ${y(a.station.cert_file)}`, `  key_file: ${y(a.station.key_file)}`)
  }
  out.push(
    '',
    '# The embedded MQTT broker for lamp-box panels, neighbour posts and technicians\' laptops.',
    '# Anonymous clients are refused; add users with `safehouse user add NAME --role ROLE`.',
    'broker:',
    `  host: ${y(a.broker.host)}    # 127.0.0.1 = this Pi only; 0.0.0.0 = the post's LAN`,
    `  port: ${a.broker.port}`,
  )
  if (a.broker.users.length === 0) out.push('  users: []')
  else {
    out.push('  users:')
    for (const u of a.broker.users) out.push(`    - username: ${y(u.username)}`, `      role: ${y(u.role)}`)
  }
  out.push(
    '',
    '# BLE whistles and SOS buttons are heard through BlueZ (the Pi\'s radio).',
    'ble:',
    '  driver: bluez',
    '',
    '# Firmata I/O boards for wired panic buttons (`safehouse pair button` adds them).',
    'boards: []',
    '',
    '# The devices of this post: `safehouse pair ble`, `safehouse pair button`, `safehouse pair lamp`.',
    'devices: []',
    '',
  )
  return out.join('\n')
}
