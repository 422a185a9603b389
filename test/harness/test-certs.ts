/**
 * A throwaway PKI made with openssl for TLS tests: a CA, a server certificate
 * for 127.0.0.1 and a client certificate, all signed by the CA.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestCerts { dir: string; ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string }

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'safehouse-pki-'))
  const f = (n: string) => join(dir, n)
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' })
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=safehouse test CA', '-keyout', f('ca.key'), '-out', f('ca.pem'))
  writeFileSync(f('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  for (const [name, cn] of [['server', '127.0.0.1'], ['client', 'gw-kiosk-001']] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`))
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', f('san.ext'), '-out', f(`${name}.pem`))
  }
  return { dir, ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') }
}
