/**
 * A DeviceInputSink that records everything the lamp-box driver reports, with
 * helpers to wait (bounded) for real-I/O outcomes in the PTY tests.
 */
import type { DeviceInputSink, DeviceLinkStatus } from '../../devices/device-driver.js'
import { KIND_NAMES } from '../../protocols/event-kinds.js'

export interface RecordedInput { device: number; kind: number; name: string; value: number; hwTime: number }
export interface RecordedLink { device: number; status: DeviceLinkStatus; reason: string }

export class RecordingSink implements DeviceInputSink {
  readonly inputs: RecordedInput[] = []
  readonly links: RecordedLink[] = []
  readonly counts = new Map<string, number>()

  input(device: number, kind: number, value: number, hwTime: number): void {
    this.inputs.push({ device, kind, name: KIND_NAMES[kind], value, hwTime })
  }

  linkStatus(device: number, status: DeviceLinkStatus, reason: string): void {
    this.links.push({ device, status, reason })
  }

  count(_device: number, counter: string, by = 1): void {
    this.counts.set(counter, (this.counts.get(counter) ?? 0) + by)
  }

  n(counter: string): number { return this.counts.get(counter) ?? 0 }

  /** Inputs of one kind (optionally with one value). */
  of(kind: number, value?: number): RecordedInput[] {
    return this.inputs.filter((i) => i.kind === kind && (value === undefined || Object.is(i.value, value)))
  }

  get lastLink(): RecordedLink | undefined { return this.links[this.links.length - 1] }

  /** Wait until cond() holds, polling every 10 ms; rejects with `what` after timeoutMs. */
  async waitFor(what: string, cond: () => boolean, timeoutMs = 8000): Promise<void> {
    const started = Date.now()
    while (!cond()) {
      if (Date.now() - started > timeoutMs) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; inputs=${JSON.stringify(this.inputs.map((i) => `${i.name}:${i.value}`))} links=${JSON.stringify(this.links.map((l) => `${l.status}:${l.reason}`))} counts=${JSON.stringify([...this.counts])}`)
      }
      await new Promise((r) => setTimeout(r, 10))
    }
  }
}
