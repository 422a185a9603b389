/**
 * GET /metrics over plain HTTP for the station service (issue 14), on
 * `metrics.host:metrics.port`: loopback only by default. The station's own
 * small listener (station/ never imports gateway/). Metrics are a
 * maintainer's view, never the alarm path: a port that cannot be bound is
 * logged and the service runs on.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'

export interface MetricsExposition {
  text(): Promise<string>
  readonly contentType: string
}

export class StationMetricsServer {
  private server: Server | null = null
  /** The bound address once listening (port 0 resolves to the real port); null if not listening. */
  address: AddressInfo | null = null

  constructor(private readonly o: { host: string; port: number; metrics: MetricsExposition; log: Logger }) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end()
        return
      }
      if ((req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n')
        return
      }
      this.o.metrics.text().then(
        (body) => res.writeHead(200, { 'content-type': this.o.metrics.contentType }).end(req.method === 'HEAD' ? undefined : body),
        (e: unknown) => {
          this.o.log.error({ err: (e as Error).message }, 'station metrics collection failed')
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n')
        },
      )
    })
    server.requestTimeout = 10_000
    server.headersTimeout = 5_000
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(this.o.port, this.o.host, () => {
          server.off('error', reject)
          resolve()
        })
      })
    } catch (e) {
      this.o.log.error({ host: this.o.host, port: this.o.port, err: (e as Error).message }, 'station metrics listener could not start; the service runs without /metrics (change metrics.port or set metrics.enabled: false)')
      return
    }
    server.on('error', (e) => this.o.log.error({ err: e.message }, 'station metrics listener error'))
    this.server = server
    this.address = server.address() as AddressInfo
    const a = this.address
    this.o.log.info({ url: `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}/metrics` }, 'station metrics listening')
  }

  async stop(): Promise<void> {
    const s = this.server
    this.server = null
    this.address = null
    if (!s) return
    s.closeAllConnections()
    await new Promise<void>((r) => s.close(() => r()))
  }
}
