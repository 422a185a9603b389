/**
 * GET /metrics over plain HTTP (issue 14) for both composition roots: the
 * gateway and the station service. It lives below both (DESIGN §2: what two
 * layers share lives at the lowest layer that needs it; station/ never imports
 * gateway/). Loopback only by default, so a scrape from another machine cannot
 * reach it unless the config says so. Metrics are a maintainer's view, never
 * the alarm path: a port that cannot be bound is logged and the service runs on.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'

/** What a listener serves: prom-client's registry, or anything shaped like it. */
export interface MetricsExposition {
  text(): Promise<string>
  readonly contentType: string
}

export interface MetricsListenerOptions {
  host: string
  port: number
  metrics: MetricsExposition
  log: Logger
}

export class MetricsListener {
  private server: Server | null = null
  /** The bound address once listening (port 0 resolves to the real port); null if not listening. */
  address: AddressInfo | null = null

  constructor(private readonly o: MetricsListenerOptions) {}

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
      this.o.log.error({ host: this.o.host, port: this.o.port, err: (e as Error).message }, 'metrics listener could not start; running without /metrics (change metrics.port or set metrics.enabled: false)')
      return
    }
    server.on('error', (e) => this.o.log.error({ err: e.message }, 'metrics listener error'))
    this.server = server
    const a = (this.address = server.address() as AddressInfo)
    this.o.log.info({ url: `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}/metrics` }, 'metrics listening')
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
