/**
 * Checks for each `safehouse init` answer (issue 7 §1), shared by the
 * questions and the flags so both say the same thing. Each returns what is
 * wrong and what to do, or null when the answer is fine. They mirror the
 * config schema (gateway/config/schema.ts), so a problem shows up while the
 * technician is still at that question rather than at the final validation.
 */
import { accessSync, constants, statSync } from 'node:fs'
import { isIP } from 'node:net'
import { isAbsolute } from 'node:path'
import { isTopicLevel, RESERVED_POST } from '../../protocols/mqtt/topics.js'

export type Check = (answer: string) => string | null

export const BROKER_ROLES = ['panel', 'technician', 'neighbour', 'station', 'simulator'] as const
export type BrokerRole = (typeof BROKER_ROLES)[number]

const LEVEL_HINT = 'use 1-32 lower-case letters, digits and dashes, starting with a letter or digit'

/** Site, post and group ids are MQTT topic levels (protocols/mqtt/topics.ts). */
export function topicLevel(example: string): Check {
  return (s) => (isTopicLevel(s) ? null : `${LEVEL_HINT} (e.g. "${example}")`)
}

export const postId: Check = (s) => {
  if (s === RESERVED_POST) return `"${RESERVED_POST}" is reserved for the group fan-out topics; choose another post id (e.g. "kiosk-017")`
  return topicLevel('kiosk-017')(s)
}

/** Blank = no group. */
export const groupId: Check = (s) => (s === '' ? null : topicLevel('unit-3')(s))

export const absolutePath: Check = (s) => (isAbsolute(s) ? null : 'give an absolute path (starting with /)')

export const listenHost: Check = (s) => {
  if (isIP(s)) return null
  if (/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,62}\.?)*$/.test(s) && s.length <= 253) return null
  return 'give an IP address to listen on (127.0.0.1 = this Pi only, 0.0.0.0 = the post\'s LAN) or a host name'
}

export const tcpPort: Check = (s) => (/^\d{1,5}$/.test(s) && Number(s) >= 1 && Number(s) <= 65535 ? null : 'give a TCP port number from 1 to 65535 (MQTT: 1883)')

/**
 * The station broker's URL. Blank = no station (local only). A password in the
 * URL would end up in the config, which is not secret: it is refused.
 */
export const stationUrl: Check = (s) => {
  if (s === '') return null
  let u: URL
  try {
    u = new URL(s)
  } catch {
    return 'not a URL; write it like mqtts://station.example.city:8883'
  }
  if (!['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(u.protocol)) return `scheme "${u.protocol.slice(0, -1)}" is not supported; use mqtts://host:8883 (TLS) or mqtt://host:1883`
  if (!u.hostname) return 'the URL has no host name; write it like mqtts://station.example.city:8883'
  if (u.password) return 'do not put the password in the URL (the config is not secret): leave it out, the station password is asked separately and kept in the secrets file'
  if (u.username) return 'do not put the user name in the URL: it is asked separately (station username)'
  return null
}

export const brokerUsername: Check = (s) => (/^[a-zA-Z0-9_.-]{1,64}$/.test(s) ? null : 'use 1-64 letters, digits, "_", "." or "-"')

export const stationUsername: Check = (s) => (s === '' || (s.length <= 256 && !/[\s]/.test(s)) ? null : 'no spaces; up to 256 characters')

/** A file the service will read: it must exist now, be a file, and be readable. Blank = none. */
export const readableFile: Check = (s) => {
  if (s === '') return null
  if (!isAbsolute(s)) return 'give the full path of the file (starting with /)'
  try {
    if (!statSync(s).isFile()) return `${s} is not a regular file`
    accessSync(s, constants.R_OK)
    return null
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return `${s} does not exist: copy the PEM file onto the Pi first, then give its path`
    return `cannot read ${s} (${code}): check its permissions`
  }
}

export const brokerPassword: Check = (s) => (s.length >= 8 ? null : 'use at least 8 characters')

export const stationPassword: Check = (s) => (s.length > 0 ? null : 'the password cannot be empty')

/** `--user NAME:ROLE`. */
export function parseUserFlag(v: string): { username: string; role: BrokerRole } | string {
  const at = v.lastIndexOf(':')
  if (at <= 0) return `"${v}" is not NAME:ROLE (e.g. lamp-panel:panel)`
  const username = v.slice(0, at)
  const role = v.slice(at + 1)
  const bad = brokerUsername(username)
  if (bad) return `user name "${username}": ${bad}`
  if (!(BROKER_ROLES as readonly string[]).includes(role)) return `role "${role}" is not one of ${BROKER_ROLES.join(', ')}`
  return { username, role: role as BrokerRole }
}
