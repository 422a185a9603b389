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

/**
 * mqtt.js logs every step of every packet through the `debug` package (~15 calls per alert publish
 * and its PUBACK). Disabled, each call still enters debug's rest-parameter function, which collects
 * its arguments into an array: ~12 µs per alert in the gateway child's CPU profile (issue 13 §1).
 * Unless DEBUG is set (then mqtt.js's own logger, so `DEBUG=mqttjs*` still works), it gets a no-op.
 */
const quietLog = (): void => {}

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
  return connect(url, opts.log || process.env.DEBUG ? opts : { ...opts, log: quietLog })
}
