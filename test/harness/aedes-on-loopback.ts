/**
 * A real aedes broker on a free loopback port, with the hooks a test gives it
 * (refusing a login, a SUBSCRIBE, ...): the broker that misbehaves as a
 * station broker can, without a mosquitto config per case.
 */
import { createServer } from 'node:net'
import { Aedes, type AedesOptions } from 'aedes'

export async function aedesOnLoopback(opts: Partial<AedesOptions>): Promise<{ aedes: Aedes; url: string; close: () => Promise<void> }> {
  const aedes = await Aedes.createBroker(opts)
  const server = createServer((sock) => aedes.handle(sock))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const url = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`
  return { aedes, url, close: () => new Promise<void>((r) => server.close(() => aedes.close(() => r()))) }
}
