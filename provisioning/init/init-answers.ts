/**
 * The `safehouse init` questions (issue 7 §1), in the order a technician
 * thinks of them: the post, the station, the local broker. A value given as a
 * flag is checked like an answer and its question is skipped; with
 * --non-interactive nothing is asked (a missing required flag is a usage
 * error) except passwords, which then come from stdin (--password-stdin).
 */
import { statSync } from 'node:fs'
import { maskUrlPassword, type Prompter } from '../shared/prompter.js'
import { UsageError } from '../commands/usage-error.js'
import {
  absolutePath, BROKER_ROLES, brokerPassword, brokerUsername, groupId, listenHost, parseUserFlag, postId,
  readableFile, stationPassword, stationUrl, stationUsername, tcpPort, topicLevel, type BrokerRole, type Check,
} from './answer-checks.js'

/** Flags that answer a question (names as on the command line). */
export interface InitFlags {
  site?: string
  post?: string
  'post-type'?: string
  group?: string
  'data-dir'?: string
  'station-url'?: string
  'station-username'?: string
  'ca-file'?: string
  'cert-file'?: string
  'key-file'?: string
  'broker-host'?: string
  'broker-port'?: string
  user?: string[]
}

export interface InitAnswers {
  site: string
  post: string
  post_type: 'safety_house' | 'lookout'
  group: string | null
  data_dir: string
  broker: { host: string; port: number; users: { username: string; role: BrokerRole }[] }
  station: { url: string | null; username: string | null; ca_file: string | null; cert_file: string | null; key_file: string | null }
}

/** In clear only in memory: broker passwords are hashed before they are written. */
export interface InitPasswords {
  station: string | null
  users: Map<string, string>
}

export const DEFAULT_DATA_DIR = '/var/lib/safehouse'
const POST_TYPES = ['safety_house', 'lookout'] as const

export async function collectAnswers(flags: InitFlags, p: Prompter, interactive: boolean): Promise<{ answers: InitAnswers; passwords: InitPasswords }> {
  const field = async (flag: keyof Omit<InitFlags, 'user'>, question: string, check: Check, o: { default?: string; required?: boolean } = {}): Promise<string> => {
    const given = flags[flag]
    if (given !== undefined) {
      const problem = check(given)
      if (problem) throw new UsageError(`--${flag} "${maskUrlPassword(given)}": ${problem}`)
      return given
    }
    if (!interactive) {
      if (o.required) throw new UsageError(`--${flag} is required with --non-interactive (run 'safehouse init --help' for an example)`)
      return o.default ?? ''
    }
    return p.ask(question, { default: o.default, validate: (a) => (o.required && a === '' ? 'an answer is required' : check(a)) })
  }

  const site = await field('site', 'Site id (city district, e.g. sh-huangpu)', topicLevel('sh-huangpu'), { required: true })
  const post = await field('post', 'Post id (this kiosk or platform, e.g. kiosk-017)', postId, { required: true })
  const postType = await field('post-type', `Post type (${POST_TYPES.join('/')})`, (s) => ((POST_TYPES as readonly string[]).includes(s) ? null : `choose one of ${POST_TYPES.join(', ')}`), { default: 'safety_house' })
  const group = await field('group', 'Joint-defence group id (posts that answer each other\'s alarms; blank = none)', groupId)
  const dataDir = await field('data-dir', 'Data directory (outbox and counters)', absolutePath, { default: DEFAULT_DATA_DIR })

  const passwords: InitPasswords = { station: null, users: new Map() }
  const station: InitAnswers['station'] = { url: null, username: null, ca_file: null, cert_file: null, key_file: null }
  const url = await field('station-url', 'Station broker URL (e.g. mqtts://station.example.city:8883; blank = no station, local only)', stationUrl)
  const tlsFlags = (['ca-file', 'cert-file', 'key-file'] as const).filter((f) => flags[f] !== undefined)
  if (url === '') {
    const orphans = [...(flags['station-username'] !== undefined ? ['station-username'] : []), ...tlsFlags]
    if (orphans.length) throw new UsageError(`--${orphans.join(', --')} need(s) --station-url`)
    p.say('  no station: alerts stay on this post\'s local broker (add station.url to the config later)')
  } else {
    station.url = url
    const username = await field('station-username', 'Station user name (blank = none, e.g. client certificate only)', stationUsername)
    if (username !== '') {
      station.username = username
      passwords.station = await p.secret(`Station password for ${username}`, { validate: stationPassword })
    }
    const tls = /^(mqtts|wss):/.test(url)
    if (!tls) {
      if (tlsFlags.length) throw new UsageError(`--${tlsFlags.join(', --')} need(s) an encrypted station URL (mqtts://)`)
      p.say('  warning: the station link is not encrypted (mqtt://); use mqtts:// unless the network is private')
    } else {
      const ca = await field('ca-file', 'CA certificate that signed the station\'s certificate (PEM; blank = the system CA store)', readableFile)
      if (ca === '') p.say('  warning: no ca_file: the station\'s certificate is checked against the system CA store, so a private station CA will be refused')
      station.ca_file = ca || null
      const cert = await field('cert-file', 'Client certificate of this post (PEM; blank = none)', readableFile)
      if (cert === '' && flags['key-file'] !== undefined) throw new UsageError('--key-file needs --cert-file (a client certificate and its key go together)')
      if (cert !== '') {
        const key = await field('key-file', 'Client key (PEM)', (s) => (s === '' ? 'a client certificate needs its key file' : readableFile(s)), { required: true })
        if ((statSync(key).mode & 0o077) !== 0) p.say(`  warning: ${key} is readable by other users: run chmod 600 ${key}`)
        station.cert_file = cert
        station.key_file = key
      }
    }
  }

  const host = await field('broker-host', 'Local broker listens on (127.0.0.1 = this Pi only, 0.0.0.0 = the post\'s LAN)', listenHost, { default: '127.0.0.1' })
  const port = await field('broker-port', 'Local broker port', tcpPort, { default: '1883' })
  const users = await brokerUsers(flags, p, interactive, passwords)
  if (users.length === 0 && host !== '127.0.0.1' && host !== 'localhost') {
    p.say('  note: no local broker users yet: the broker refuses anonymous clients, so nothing on the LAN can log in until you run `safehouse user add`')
  }

  const answers: InitAnswers = {
    site, post, post_type: postType as InitAnswers['post_type'], group: group || null, data_dir: dataDir,
    broker: { host, port: Number(port), users }, station,
  }
  return { answers, passwords }
}

async function brokerUsers(flags: InitFlags, p: Prompter, interactive: boolean, passwords: InitPasswords): Promise<InitAnswers['broker']['users']> {
  const users: InitAnswers['broker']['users'] = []
  const askPassword = async (name: string) => {
    passwords.users.set(name, await p.secret(`Password for local broker user ${name} (at least 8 characters)`, { validate: brokerPassword }))
  }
  if (flags.user?.length) {
    for (const v of flags.user) {
      const u = parseUserFlag(v)
      if (typeof u === 'string') throw new UsageError(`--user ${u}`)
      if (users.some((x) => x.username === u.username)) throw new UsageError(`--user ${u.username} is given twice`)
      users.push(u)
    }
    for (const u of users) await askPassword(u.username)
    return users
  }
  if (!interactive) return users
  while (await p.confirm(users.length ? 'Add another local broker user?' : 'Add a local broker user (lamp-box panel, technician laptop, neighbour post)?', false)) {
    const username = await p.ask('User name', { validate: (s) => brokerUsername(s) ?? (users.some((u) => u.username === s) ? `${s} is already added` : null) })
    const role = await p.choose('Role', BROKER_ROLES, 'panel')
    await askPassword(username)
    users.push({ username, role })
  }
  return users
}

/** Whether the answers will need passwords (for the --non-interactive check before anything is asked). */
export function flagsNeedPasswords(flags: InitFlags): boolean {
  return (flags['station-username'] !== undefined && flags['station-username'] !== '') || !!flags.user?.length
}
