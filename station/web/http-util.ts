/**
 * Small node:http helpers for the console (issue 15): JSON bodies with a size
 * cap, cookies, security headers. No framework: the console has a dozen routes
 * and node:http gives us full control of headers (CSP, cookies, SSE).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

/** A console request body is a login, a note or a command: 64 KiB is plenty. */
export const MAX_BODY_BYTES = 64 * 1024

export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string) {
    super(code)
  }
}

/**
 * Headers on every response. The CSP forbids inline script and any foreign
 * origin, so even a payload that slipped past escaping could not run.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
}

export function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', ...extra })
  res.end(text)
}

export function sendText(res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra })
  res.end(body)
}

export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  // Only JSON: a cross-site HTML form cannot send application/json without a
  // CORS preflight, which we never answer (defence in depth beside CSRF tokens).
  const type = String(req.headers['content-type'] ?? '')
  if (!type.startsWith('application/json')) throw new HttpError(415, 'json_required')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'body_too_large')
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return {}
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object')
    return v as Record<string, unknown>
  } catch {
    throw new HttpError(400, 'bad_json')
  }
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>()
  if (!header) return out
  for (const part of header.split(';')) {
    const i = part.indexOf('=')
    if (i < 0) continue
    const k = part.slice(0, i).trim()
    const v = part.slice(i + 1).trim()
    if (k && !out.has(k)) {
      try { out.set(k, decodeURIComponent(v)) } catch { /* a malformed cookie is ignored */ }
    }
  }
  return out
}

/**
 * Where the request came from, for the audit log and the login rate limit.
 * Behind a reverse proxy every request comes from the proxy, so with
 * trustProxy the last X-Forwarded-For hop (the one our proxy appended) is
 * used; never trusted otherwise (a browser could write anything there).
 */
export function clientAddress(req: IncomingMessage, trustProxy = false): string {
  const peer = req.socket.remoteAddress ?? 'unknown'
  if (!trustProxy) return peer
  const xff = req.headers['x-forwarded-for']
  const list = (Array.isArray(xff) ? xff.join(',') : xff ?? '').split(',').map((x) => x.trim()).filter((x) => x)
  return list.at(-1)?.slice(0, 64) ?? peer
}

/** A string field from a JSON body, trimmed and capped; null when absent or empty. */
export function str(body: Record<string, unknown>, key: string, max = 200): string | null {
  const v = body[key]
  if (typeof v !== 'string') return null
  const s = v.trim()
  if (s === '') return null
  if (s.length > max) throw new HttpError(400, `${key}_too_long`)
  return s
}
