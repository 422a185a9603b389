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
  if (!connect) {
    const require = createRequire(import.meta.url)
    connect = (require('mqtt') as { connect: (url: string, opts: IClientOptions) => MqttClient }).connect
    // The mqtt-packet mqtt.js writes with builds a cache of 65,536 Buffers at its first write unless
    // told not to (docs/decisions.md "No packet-id cache in mqtt-packet"). The embedded broker turns
    // off its own copy's; in the installed bundle that copy is inlined with aedes and this one is
    // mqtt.js's own (provisioning/build/bundle-cli.ts), so it is turned off here too.
    const packet = createRequire(require.resolve('mqtt'))('mqtt-packet') as { writeToStream: { cacheNumbers: boolean } }
    packet.writeToStream.cacheNumbers = false
  }
  return connect(url, opts)
}
