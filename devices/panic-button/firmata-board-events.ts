/**
 * What a FirmataBoard (hw-firmata-board.ts) tells its owner, the gateway's
 * BoardLink or the pair command: its events, and why a connection ended as
 * plain facts that each owner words for its own reader.
 */

export interface SerialPortInfoLike { path: string; manufacturer?: string }

/** Error text for a port path that does not exist (issue 3 "Bad input"). */
export function describeMissingPort(path: string, present: readonly SerialPortInfoLike[]): string {
  const list = present.length === 0
    ? 'none'
    : present.map((p) => (p.manufacturer ? `${p.path} (${p.manufacturer})` : p.path)).join(', ')
  return `serial port ${path} not found; serial ports present: ${list}. ` +
    'Check the board\'s USB cable and boards[].port in the config (prefer /dev/serial/by-id/... names).'
}

/** Why a connection ended; `message` is the plain fact, callers add what to check. */
export type BoardFailure =
  /** The port path does not exist (the message lists the ports that do). */
  | { kind: 'missing'; message: string }
  /** The OS refused to open the port; `cause` is its error text. */
  | { kind: 'open'; message: string; cause: string }
  /** No complete handshake in time; `gotVersion`: the board answered the version but not the rest. */
  | { kind: 'handshake'; message: string; gotVersion: boolean }
  /** A working link broke: port error or close, a library error, a vanished path or silence. */
  | { kind: 'link'; message: string }

/** What a FirmataBoard tells its owner (an object, not closures: the data path runs per chunk). */
export interface FirmataBoardEvents {
  /** Handshake done: pins, watchDigital() and watchAnalog() may be used. */
  onBoardReady(): void
  /** The connection is over and closing itself; called once. */
  onBoardFailed(failure: BoardFailure): void
  /** A chunk went through the frame filter (its counters may have moved). */
  onBoardData(): void
  /** firmata-io threw on a message the filter let through: dropped, counted in filter.rejectedSysex. */
  onMessageDropped(err: string): void
}
