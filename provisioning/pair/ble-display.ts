/**
 * The live list `safehouse pair ble` shows on stderr while it scans.
 *
 * On a terminal the list is redrawn in place (at most a few times a second,
 * strongest signal first, pressed devices marked), so a busy street full of
 * phones stays one screen. Into a pipe or a log (scripts, tests) redrawing
 * would repeat the whole table per advert, so each device gets one line when
 * it is first heard over the air and one when it is pressed.
 */
import type { Writable } from 'node:stream'
import { detailOf, formatLabel, type Candidate } from './ble-candidates.js'

const REDRAW_MS = 250
const MAX_ROWS = 15

export function candidateLine(c: Candidate): string {
  const rssi = Number.isFinite(c.rssi) ? `${c.rssi} dBm` : '? dBm'
  const name = c.name || '-'
  const conf = c.configuredAs !== null ? `  (configured: ${c.configuredAs})` : ''
  return `${c.address}  ${rssi.padStart(8)}  ${formatLabel(c).padEnd(19)}  ${detailOf(c).padEnd(30)}  ${name}${conf}`
}

export class LiveList {
  private drawn = 0
  private timer: NodeJS.Timeout | null = null
  private stopped = false
  private readonly announced = new Set<string>()

  constructor(
    private readonly out: Writable,
    private readonly tty: boolean,
    private readonly rows: () => Iterable<Candidate>,
  ) {}

  /** A device changed; `isNew` when first heard live. */
  changed(c: Candidate, isNew: boolean): void {
    if (this.stopped) return
    if (this.tty) return this.schedule()
    if (isNew && c.live && !this.announced.has(c.address)) {
      this.announced.add(c.address)
      this.out.write(`  heard   ${candidateLine(c)}\n`)
    }
  }

  pressed(c: Candidate, note = ''): void {
    if (this.stopped) return
    if (this.tty) return this.schedule()
    this.out.write(`  pressed ${candidateLine(c)}  <- ${c.pressWhy}${note}\n`)
  }

  /** A message between redraws (the table is redrawn below it on a terminal). */
  note(text: string): void {
    if (this.tty) this.clear()
    this.out.write(text + '\n')
    if (this.tty && !this.stopped) this.schedule()
  }

  /** Final draw; no more redraws after this. */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    if (this.tty && !this.stopped) this.draw()
    this.stopped = true
  }

  private schedule(): void {
    if (this.timer !== null) return
    this.timer = setTimeout(() => {
      this.timer = null
      if (!this.stopped) this.draw()
    }, REDRAW_MS)
    this.timer.unref()
  }

  private clear(): void {
    // Cursor up over the last table, then clear to the end of the screen (ECMA-48 CUU, ED).
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[J`)
    this.drawn = 0
  }

  private draw(): void {
    const live = [...this.rows()].filter((c) => c.live)
    live.sort((a, b) => (b.pressedAt - a.pressedAt) || ((Number.isFinite(b.rssi) ? b.rssi : -999) - (Number.isFinite(a.rssi) ? a.rssi : -999)))
    const lines = live.slice(0, MAX_ROWS).map((c) => `  ${c.pressedAt > 0 ? '▶' : ' '} ${candidateLine(c)}${c.pressedAt > 0 ? `  <- ${c.pressWhy}` : ''}`)
    if (live.length > MAX_ROWS) lines.push(`    … and ${live.length - MAX_ROWS} more (weaker signals)`)
    if (lines.length === 0) lines.push('    (nothing heard yet)')
    // A wrapped line would break the cursor-up count: cut each to the terminal width.
    const cols = (this.out as { columns?: number }).columns ?? 200
    this.clear()
    this.out.write(lines.map((l) => (l.length >= cols ? l.slice(0, cols - 1) : l)).join('\n') + '\n')
    this.drawn = lines.length
  }
}
