/**
 * URLs in log lines and tool output (issue 2 §9: secrets are never logged). Its own module, apart
 * from logging.ts, so the tools that print a URL do not load pino with it (issue 13 §5).
 */

/** A URL fit for a log line: a password written into it (mqtt://user:pass@host) is replaced. */
export function urlForLog(url: string | null): string | null {
  return url === null ? null : url.replace(/(\/\/[^:/@]*):[^@/]*@/, '$1:[redacted]@')
}
