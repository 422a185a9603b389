/**
 * Wired panic buttons on Firmata I/O boards (Arduino Nano/Uno, RP2040 with
 * StandardFirmata) over USB serial, through johnny-five (issue 3 §1, §4):
 * the `driver: firmata` buttons mapped onto one BoardLink (board-link.ts)
 * per `boards:` entry they name. The board itself (serialport, firmata-io,
 * johnny-five, the handshake) is opened by hw-firmata-board.ts.
 *
 * A board's failure faults only its own buttons; a board nobody uses is
 * never opened.
 */
import type { DeviceDriver, DriverContext } from '../device-driver.js'
import type { FirmataBoardConfig } from './board-config.js'
import { BoardLink, type BoardStatus } from './board-link.js'
import { ButtonChannel, type PanicButtonDevice } from './button-channel.js'

export type { BoardState, BoardStatus } from './board-link.js'

export interface FirmataPanicButtonOptions {
  /** Entries of the top-level `boards:` section. */
  boards: readonly FirmataBoardConfig[]
  /** Buttons with `driver: firmata`; each names its board. */
  buttons: readonly PanicButtonDevice[]
}

export class FirmataPanicButtonDriver implements DeviceDriver {
  readonly kind = 'panic-button' as const
  private readonly links: BoardLink[] = []
  private readonly channels: ButtonChannel[] = []
  private stopped = false

  constructor(opts: FirmataPanicButtonOptions, ctx: DriverContext) {
    const known = opts.boards.map((b) => b.id)
    for (const b of opts.buttons) {
      if (!known.includes(b.config.board)) {
        throw new Error(`panic button "${b.config.id}": board "${b.config.board}" is not in the boards: section (known: ${known.join(', ') || 'none'}); add it or fix board:`)
      }
    }
    for (const bc of opts.boards) {
      const chans = opts.buttons.filter((b) => b.config.board === bc.id).map((b) => new ButtonChannel(b, ctx.clock, ctx.sink))
      if (chans.length === 0) continue // a board nobody uses is not opened
      this.channels.push(...chans)
      this.links.push(new BoardLink(bc, chans, ctx.clock, ctx.log.child({ driver: 'firmata', board: bc.id })))
    }
  }

  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => { void this.stop() }, { once: true })
    for (const ch of this.channels) ch.linkStarting()
    for (const l of this.links) l.attempt()
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const l of [...this.links].reverse()) await l.stop()
    for (const ch of this.channels) ch.linkStopped()
  }

  /** Clock.monotonic() when board `id` last sent bytes; NaN for an unknown board. */
  lastRxMonotonic(id: string): number {
    const l = this.links.find((x) => x.cfg.id === id)
    return l ? l.lastRxMonotonic : NaN
  }

  /** Board state for device state / `safehouse status`. */
  boards(): BoardStatus[] { return this.links.map((l) => l.status()) }
}
