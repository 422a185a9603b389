/**
 * The flooder for bench/login-flood.ts, in its own process so its sockets do
 * not share the gateway's event loop: `node --import tsx bench/login-flood-client.ts
 * PORT COUNT INFLIGHT USERNAME ADDRESSES`. Sends COUNT wrong-password CONNECTs,
 * INFLIGHT at a time, from 127.0.0.1 (ADDRESSES=0) or from 127.0.1.1..ADDRESSES
 * in turn; prints one JSON line with the CONNACK codes seen.
 */
import { rawConnect } from '../test/harness/raw-mqtt.js'

const [port, count, inflight, username, addresses] = [Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4]), process.argv[5], Number(process.argv[6])]
const codes: Record<string, number> = {}
let next = 0
const started = performance.now()
async function worker(): Promise<void> {
  while (next < count) {
    const i = next++
    const localAddress = addresses > 0 ? `127.0.1.${1 + (i % addresses)}` : '127.0.0.1'
    const r = await rawConnect(port, { clientId: `flood${i}`, username, password: `guess-${i}`, localAddress }, 30_000, 0)
    codes[String(r.code)] = (codes[String(r.code)] ?? 0) + 1
  }
}
await Promise.all(Array.from({ length: inflight }, worker))
console.log(JSON.stringify({ codes, ms: performance.now() - started }))
