/** Named counters for StationHealth: every drop and rejection is counted (developers' guide). */
export class Counters {
  private readonly m = new Map<string, number>()
  inc(name: string, by = 1): void { this.m.set(name, (this.m.get(name) ?? 0) + by) }
  set(name: string, v: number): void { this.m.set(name, v) }
  get(name: string): number { return this.m.get(name) ?? 0 }
  snapshot(): Record<string, number> { return Object.fromEntries(this.m) }
}
