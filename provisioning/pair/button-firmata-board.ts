/**
 * A Firmata board opened for pairing (issue 7 §2): the gateway's own
 * FirmataBoard (devices/panic-button/hw-firmata-board.ts: the same stack,
 * handshake, timeouts and liveness check as the driver), awaited, with its
 * failures worded for the technician at the board.
 *
 * Why not the driver itself: it reports debounced button events for
 * configured pins only, while press-to-learn needs the pin table, every
 * input's raw level and the loops' raw ADC counts.
 */
import { systemClock } from '../../devices/time/clock.js'
import type { FirmataBoardConfig } from '../../devices/panic-button/board-config.js'
import type { BoardPins } from '../../devices/panic-button/firmata-pin-table.js'
import type { BoardFailure, FirmataBoardEvents } from '../../devices/panic-button/firmata-board-events.js'
import { FirmataBoard } from '../../devices/panic-button/hw-firmata-board.js'

/** The board's stable name once `safehouse install` has written its udev rule (provisioning/install/udev-rules.ts). */
export const udevFirmata = (boardId: string): string => `/dev/safehouse-firmata-${boardId}`

const CHECKS = (cfg: FirmataBoardConfig): string =>
  `Check: the USB cable (a charge-only cable carries no data); that ${cfg.port} is the board ` +
  `(after \`safehouse install\` its stable name is ${udevFirmata(cfg.id)}; \`ls -l /dev/serial/by-id/\` lists the ports by device); ` +
  'that your user is in the "dialout" group; and that the board runs StandardFirmata ' +
  `at ${cfg.baud} baud (docs/devices/panic-button.md §3).`

/** A failure as the technician reads it: what happened, then what to check. */
function describe(cfg: FirmataBoardConfig, f: BoardFailure): string {
  switch (f.kind) {
    case 'missing': return `${f.message} After \`safehouse install\` the board is ${udevFirmata(cfg.id)}.`
    case 'open': {
      let hint = CHECKS(cfg)
      if (/permission denied|EACCES/i.test(f.cause)) hint = 'Add your user to the "dialout" group (sudo usermod -aG dialout $USER, then log in again), or run with sudo.'
      else if (/lock|busy/i.test(f.cause)) hint = 'Another program holds the port: stop the gateway while pairing (sudo systemctl stop safehouse) and close any serial monitor.'
      return `${f.message} ${hint}`
    }
    case 'handshake': {
      const partly = f.gotVersion ? ' (it sent its version but not its capabilities: old or custom firmware, reflash StandardFirmata)' : ' (no reply at all)'
      return `${f.message}${partly}. ${CHECKS(cfg)}`
    }
    default: return `${f.message}. ${CHECKS(cfg)}`
  }
}

export class FirmataPairBoard implements FirmataBoardEvents {
  private readonly board: FirmataBoard
  /** What went wrong first, for the technician; '' while fine. */
  private problem = ''
  private handshake: { resolve: () => void; reject: (e: Error) => void } | null = null

  private constructor(readonly cfg: FirmataBoardConfig) {
    this.board = new FirmataBoard(cfg, systemClock, this)
  }

  /** Open the port and complete the Firmata handshake; throws a message that says what to check. */
  static async open(cfg: FirmataBoardConfig): Promise<FirmataPairBoard> {
    const b = new FirmataPairBoard(cfg)
    await new Promise<void>((resolve, reject) => {
      b.handshake = { resolve, reject }
      b.board.open()
    })
    return b
  }

  get firmware(): string {
    return this.board.firmware.replace(/\.ino(?= )/, '') || 'unknown firmware'
  }

  pins(pullup: boolean): BoardPins { return this.board.pins.inputs(pullup) }

  /** Make `pin` an input (pull-up on when asked) and report its level. */
  watchDigital(pin: number, pullup: boolean, cb: (level: number) => void): void { this.board.watchDigital(pin, pullup, cb) }

  /** Report analog channel `channel` every sampling interval. */
  watchAnalog(channel: number, cb: (reading: number) => void): void { this.board.watchAnalog(channel, cb) }

  /**
   * Liveness, as the driver's tick: '' while the board is there; else what
   * went wrong (FirmataBoard.checkLiveness: a vanished path or silence).
   */
  check(): string {
    if (!this.problem) this.board.checkLiveness()
    return this.problem
  }

  close(): Promise<void> { return this.board.close() }

  // --- FirmataBoardEvents ------------------------------------------------------------

  onBoardReady(): void {
    this.handshake?.resolve()
    this.handshake = null
  }

  onBoardFailed(f: BoardFailure): void {
    const h = this.handshake
    if (h) {
      this.handshake = null
      // the port is closed before the command reports the error and exits
      void this.board.close().then(() => h.reject(new Error(describe(this.cfg, f))))
    } else {
      this.problem = f.message
    }
  }

  onBoardData(): void {}
  onMessageDropped(): void {} // counted by the filter, as the driver does; nothing to tell the technician
}
