/** A DeviceInputSink that records calls, with an awaitable `until` for real-stack tests. */
import type { DeviceInputSink, DeviceLinkStatus } from '../../../devices/device-driver.js'
import { KIND_NAMES } from '../../../protocols/event-kinds.js'

export interface RecordedInput { device: number; kind: number; name: string; value: number; hwTime: number; at: bigint }
export interface RecordedLink { device: number; status: DeviceLinkStatus; reason: string }

export class RecordingSink implements DeviceInputSink {
  inputs: RecordedInput[] = []
  links: RecordedLink[] = []
  counts = new Map<string, number>()
  /** Optional hook on every input (benchmarks). */
  onInput: ((device: number, kind: number) => void) | null = null
  private waiters: Array<() => void> = []

  input(device: number, kind: number, value: number, hwTime: number): void {
    this.inputs.push({ device, kind, name: KIND_NAMES[kind], value, hwTime, at: process.hrtime.bigint() })
    this.onInput?.(device, kind)
    this.wake()
  }

  linkStatus(device: number, status: DeviceLinkStatus, reason: string): void {
    this.links.push({ device, status, reason })
    this.wake()
  }

  count(device: number, counter: string, by = 1): void {
    const k = `${device}:${counter}`
    this.counts.set(k, (this.counts.get(k) ?? 0) + by)
    this.wake()
  }

  names(device?: number): string[] {
    return this.inputs.filter((i) => device === undefined || i.device === device).map((i) => i.name)
  }

  lastLink(device: number): RecordedLink | undefined {
    for (let i = this.links.length - 1; i >= 0; i--) if (this.links[i].device === device) return this.links[i]
    return undefined
  }

  clear(): void { this.inputs = []; this.links = [] }

  /** Wait until `test` holds; rejects after timeoutMs with `what` in the message. */
  until(test: () => boolean, what: string, timeoutMs = 10000): Promise<void> {
    if (test()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const check = (): void => { if (test()) { done(); resolve() } }
      const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${what}; inputs: ${this.names().join(',')}; links: ${JSON.stringify(this.links.slice(-5))}`)) }, timeoutMs)
      const done = (): void => { clearTimeout(timer); this.waiters = this.waiters.filter((w) => w !== check) }
      this.waiters.push(check)
    })
  }

  private wake(): void { for (const w of [...this.waiters]) w() }
}
