/**
 * mqtt.js's connect, loaded at the first connection (issue 13 §5-6): imported
 * statically, mqtt's ~25 CommonJS files were read before the embedded broker
 * listened, held in memory on a post without a station, and scanned by
 * Node's CommonJS export lexer (an ESM import of a CommonJS package), which
 * got hot enough at start for TurboFan to compile it. Required, not imported.
 */
import { createRequire } from 'node:module'
import type { IClientOptions, MqttClient } from 'mqtt'

let connect: ((url: string, opts: IClientOptions) => MqttClient) | null = null

export function mqttConnect(url: string, opts: IClientOptions): MqttClient {
  connect ??= (createRequire(import.meta.url)('mqtt') as { connect: (url: string, opts: IClientOptions) => MqttClient }).connect
  return connect(url, opts)
}
