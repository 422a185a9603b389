/**
 * GET /metrics over plain HTTP (issue 14), on `metrics.host:metrics.port`:
 * loopback only by default, so a scrape from another machine cannot reach it
 * unless the config says so. Metrics are a maintainer's view, never the alarm
 * path: a port that cannot be bound is logged and the gateway runs on.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import type { GatewayMetrics } from './gateway-metrics.js'

export interface MetricsServerOptions {
  host: string
  port: number
  metrics: GatewayMetrics
  log: Logger
}

export class MetricsServer {
  private server: Server | null = null
  /** The bound address once listening (port 0 resolves to the real port); null if not listening. */
  address: AddressInfo | null = null

  constructor(private readonly o: MetricsServerOptions) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end()
        return
      }
      if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n')
        return
      }
      this.o.metrics.text().then(
        (body) => res.writeHead(200, { 'content-type': this.o.metrics.contentType }).end(req.method === 'HEAD' ? undefined : body),
        (e: unknown) => {
          this.o.log.error({ err: (e as Error).message }, 'metrics collection failed')
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n')
        },
      )
    })
    // A scrape must not hold a connection open for long (the Pi has few to spare).
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
      this.o.log.error({ host: this.o.host, port: this.o.port, err: (e as Error).message }, 'metrics listener could not start; the gateway runs without /metrics (change metrics.port or set metrics.enabled: false)')
      return
    }
    server.on('error', (e) => this.o.log.error({ err: e.message }, 'metrics listener error'))
    this.server = server
    this.address = server.address() as AddressInfo
    this.o.log.info({ url: `http://${this.address.address.includes(':') ? `[${this.address.address}]` : this.address.address}:${this.address.port}/metrics` }, 'metrics listening')
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
