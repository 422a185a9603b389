/**
 * Shared by the benchmarks: percentiles over latency samples and the
 * machine/date line every Markdown section carries (issue 2 §12: figures
 * with date, machine and command).
 */
import os from 'node:os'

export interface Summary {
  n: number
  p50: number
  p99: number
  p999: number
  max: number
  mean: number
}

/**
 * Nearest-rank percentile of an ascending-sorted array: the smallest sample
 * such that at least p % of the samples are <= it. With n samples, p99.9 is
 * only meaningful for n >= 1000 (it is then the 1st-worst-in-1000).
 */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length
  if (n === 0) return NaN
  const rank = Math.ceil((p / 100) * n)
  return sorted[Math.min(n - 1, Math.max(0, rank - 1))]
}

/** Summary of the first `n` samples (copied and sorted; the input is untouched). */
export function summarize(samples: ArrayLike<number>, n = samples.length): Summary {
  const s = Float64Array.from({ length: n }, (_, i) => samples[i]).sort()
  let sum = 0
  for (let i = 0; i < n; i++) sum += s[i]
  return {
    n,
    p50: percentileSorted(s, 50),
    p99: percentileSorted(s, 99),
    p999: percentileSorted(s, 99.9),
    max: n ? s[n - 1] : NaN,
    mean: n ? sum / n : NaN,
  }
}

/** Median of plain numbers (e.g. per-run figures). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? percentileSorted(s, 50) : NaN
}

/** Milliseconds with a precision that suits sub-millisecond figures. */
export function ms(x: number): string {
  if (!Number.isFinite(x)) return 'n/a'
  return x < 10 ? x.toFixed(3) : x < 100 ? x.toFixed(2) : x.toFixed(1)
}

export interface Machine {
  cpu: string
  cores: number
  memGiB: number
  node: string
  os: string
}

export function machine(): Machine {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  }
}

/** One line: date, CPU, cores, memory, Node, OS. */
export function machineLine(date = new Date()): string {
  const m = machine()
  return `${date.toISOString().replace('T', ' ').slice(0, 16)} UTC; ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB; Node ${m.node}; ${m.os}`
}

/** The 1-minute load average, for "load before / after" beside every figure (issue 13 §7). */
export function load1(): string {
  return os.loadavg()[0].toFixed(2)
}
