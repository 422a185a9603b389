/**
 * The simulated org.bluez in a child process (bluez-sim-child.ts): the same
 * operations as BluezSim, as async calls. Used by the flood test and the
 * latency benchmark. close() disconnects (the child exits) and kills it if it
 * does not; call it from t.teardown.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { FloodOptions, FloodResult, SimAdvert } from './bluez-sim.js'

interface Reply { id: number; ok: boolean; result?: unknown; error?: string }

export class BluezSimProcess {
  private child: ChildProcess | null = null
  private nextId = 1
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()

  constructor(readonly busAddress: string) {}

  async open(timeoutMs = 15_000): Promise<this> {
    const entry = fileURLToPath(new URL('./bluez-sim-child.ts', import.meta.url))
    const child = fork(entry, [this.busAddress], {
      // The suite's esbuild loader (ts-loader.mjs), lighter than tsx (issue 14 §5).
      execArgv: ['--import', new URL('./ts-loader.mjs', import.meta.url).href],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    this.child = child
    child.on('message', (m: Reply | { ready: true }) => {
      if ('ready' in m) return
      const p = this.pending.get(m.id)
      if (!p) return
      this.pending.delete(m.id)
      if (m.ok) p.resolve(m.result)
      else p.reject(new Error(m.error))
    })
    child.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error('simulated bluetoothd process exited'))
      this.pending.clear()
    })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sim child not ready within ${timeoutMs} ms`)), timeoutMs)
      child.once('message', () => { clearTimeout(timer); resolve() })
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`sim child exited (${code})`)) })
    })
    await this.call('start')
    return this
  }

  private call<T>(method: string, ...args: unknown[]): Promise<T> {
    const child = this.child
    if (!child || !child.connected) return Promise.reject(new Error('sim child not running'))
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      child.send({ id, method, args })
    })
  }

  advertise(address: string, a: SimAdvert): Promise<boolean> { return this.call('advertise', address, a) }
  /** Resolves with the CLOCK_MONOTONIC ms at which each heard repeat was sent. */
  pressBurst(address: string, a: SimAdvert, count = 5, gapMs = 25): Promise<number[]> { return this.call('pressBurst', address, a, count, gapMs) }
  flood(o: FloodOptions): Promise<FloodResult> { return this.call('flood', o) }
  expire(address: string): Promise<void> { return this.call('expire', address) }
  crashBluetoothd(): Promise<void> { return this.call('crashBluetoothd') }
  restartBluetoothd(): Promise<void> { return this.call('restartBluetoothd') }
  state(): Promise<{ powered: boolean; discovering: boolean; filter: Record<string, unknown> | null; calls: Record<string, number> }> { return this.call('state') }

  async close(): Promise<void> {
    const child = this.child
    this.child = null
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      child.once('exit', () => { clearTimeout(timer); resolve() })
      if (child.connected) child.disconnect()
      else child.kill('SIGTERM')
    })
  }
}
