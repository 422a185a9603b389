/**
 * Connect the maintainer's tools (status, walk-test) to a broker: the
 * gateway's embedded broker or the station broker. Failures become one
 * BrokerConnectError that names the broker, the URL (password redacted), what
 * went wrong and what to check; the commands turn it into exit code 1.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { IClientOptions, MqttClient } from 'mqtt'
import type MqttModule from 'mqtt'
import { noDelay } from '../../gateway/reconnect.js'
import { urlForLog } from '../../gateway/log-url.js'

export interface BrokerTarget {
  url: string
  /** "the gateway's embedded broker" / "the station broker": used in messages. */
  what: string
  /** What to check when it cannot be reached (service running, host/port in which file...). */
  hint: string
  username?: string
  password?: string
  caFile?: string
  clientId: string
}

export class BrokerConnectError extends Error {}

export interface ConnectOptions {
  timeoutMs: number
  /** > 0: reconnect (and resubscribe) after a lost connection, for long sessions (walk test). */
  reconnectMs?: number
}

export function connectBroker(t: BrokerTarget, o: ConnectOptions): Promise<MqttClient> {
  const shown = urlForLog(t.url) ?? t.url
  const opts: IClientOptions = {
    clientId: t.clientId,
    username: t.username,
    password: t.password,
    // 3.1.1 is enough to read retained messages and send commands, and every broker speaks it
    // (the embedded aedes broker speaks nothing newer).
    protocolVersion: 4,
    clean: true,
    connectTimeout: o.timeoutMs,
    reconnectPeriod: o.reconnectMs ?? 0,
  }
  if (t.caFile) {
    try {
      opts.ca = readFileSync(t.caFile)
    } catch (e) {
      return Promise.reject(new BrokerConnectError(`cannot read --ca-file ${t.caFile}: ${(e as Error).message}`))
    }
  }
  let client: MqttClient
  try {
    // mqtt is required here, not imported: `status --help` and `walk-test --help` never load it (issue 13 §5).
    const mqtt = createRequire(import.meta.url)('mqtt') as typeof MqttModule
    client = noDelay(mqtt.connect(t.url, opts)) // walk-test commands and their replies: no Nagle delay (issue 13 §1)
  } catch (e) {
    return Promise.reject(new BrokerConnectError(`cannot connect to ${t.what} at ${shown}: ${(e as Error).message}. ${t.hint}`))
  }
  return new Promise((resolve, reject) => {
    let settled = false
    const onError = (e: Error & { code?: string | number }): void => {
      const r = describe(e, t)
      fail(r.reason, r.login)
    }
    const onClose = (): void => fail('the connection was closed before the broker answered')
    const fail = (reason: string, login = false): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      client.off('error', onError)
      client.off('close', onClose)
      client.on('error', () => {})
      client.end(true)
      reject(new BrokerConnectError(login
        ? `${t.what} at ${shown} refused the login of user "${t.username ?? '(anonymous)'}": ${reason}`
        : `cannot reach ${t.what} at ${shown}: ${reason}. ${t.hint}`))
    }
    const timer = setTimeout(() => fail(`no answer within ${o.timeoutMs} ms`), o.timeoutMs + 500)
    client.once('connect', () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      client.off('error', onError)
      client.off('close', onClose)
      client.on('error', () => {}) // later errors show as close/reconnect; never crash the CLI
      resolve(client)
    })
    client.on('error', onError)
    client.on('close', onClose)
  })
}

function describe(e: Error & { code?: string | number }, t: BrokerTarget): { reason: string; login: boolean } {
  switch (e.code) {
    case 4: case 134:
      return { reason: `bad username or password. Check --user and the password${t.what.includes('embedded') ? ' (set with `safehouse user add`, listed under broker.users in the config)' : ''}`, login: true }
    case 5: case 135:
      return { reason: 'not authorized (anonymous logins are refused: give --user)', login: true }
    case 'ECONNREFUSED': return { reason: 'connection refused (nothing listens on that port)', login: false }
    case 'ENOTFOUND': case 'EAI_AGAIN': return { reason: 'host name not found', login: false }
    case 'EHOSTUNREACH': case 'ENETUNREACH': case 'ETIMEDOUT': return { reason: `host unreachable (${e.code})`, login: false }
    case 'DEPTH_ZERO_SELF_SIGNED_CERT': case 'SELF_SIGNED_CERT_IN_CHAIN': case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE': case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return { reason: `the broker's TLS certificate is not trusted (${e.code}); pass the station's CA certificate with --ca-file`, login: false }
    case 'ERR_TLS_CERT_ALTNAME_INVALID': return { reason: 'the TLS certificate does not name this host; use the host name the certificate was issued for', login: false }
    case 'CERT_HAS_EXPIRED': return { reason: 'the broker\'s TLS certificate has expired', login: false }
    default: return { reason: e.message || String(e.code), login: false }
  }
}

/**
 * A client id every broker accepts: letters and digits, at most 23 characters
 * ([MQTT-3.1.3-5]), unique enough that two technicians' laptops do not kick each other off.
 */
export function toolClientId(tool: string): string {
  return `sh${tool}${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 5).toString(36)}`.replace(/[^a-z0-9]/gi, '').slice(0, 23)
}
