/**
 * The serial ports of this host, and the SerialPort stream the drivers open, from serialport's
 * own parts: @serialport/bindings-cpp (the native binding) and @serialport/stream. The
 * `serialport` package is these two plus all twelve of its parser packages, loaded and compiled
 * at its first require whether used or not; our drivers use none of them (issue 13 §6: idle RSS).
 * `new SerialPortStream({ binding, ...options })` is exactly what serialport 13's `SerialPort`
 * constructor does. Loaded at the first call, not at import (issue 13 §5).
 */
import { createRequire } from 'node:module'
import type { AutoDetectTypes, PortInfo } from '@serialport/bindings-cpp'
import type { SerialPortStream, OpenOptions } from '@serialport/stream'
import { systemClock, type Clock } from '../time/clock.js'

const require = createRequire(import.meta.url)
let detected: AutoDetectTypes | null = null

function binding(): AutoDetectTypes {
  return (detected ??= (require('@serialport/bindings-cpp') as typeof import('@serialport/bindings-cpp')).autoDetect())
}

/** What the OS lists (serialport's `SerialPort.list()`): on Linux a spawn of `udevadm info -e`, parsed whole. */
export function listPorts(): Promise<PortInfo[]> {
  return binding().list()
}

/**
 * How long one listing answers every "port is missing / cannot be opened" message (issue 13 §6).
 * A post with an adapter unplugged retries each absent port with a backoff growing to 30 s, and
 * each retry wanted the list for its message: 13 spawns of udevadm in the first 30 s for a typical
 * post (two absent ports), each parsing the host's whole udev database (60 KB here), enough to get
 * the stream and Buffer functions optimised and ~3 MiB more resident at idle. The list is only a
 * hint in the message; opening the configured path is never delayed or cached.
 */
export const PORT_LIST_TTL_MS = 60_000

/** One listing shared by all callers for `ttlMs` (a listing in flight is shared too); a failed one is not kept. */
export class SharedPortList {
  private last: Promise<PortInfo[]> | null = null
  private at = 0

  constructor(
    private readonly list: () => Promise<PortInfo[]> = listPorts,
    private readonly clock: Pick<Clock, 'monotonic'> = systemClock,
    private readonly ttlMs = PORT_LIST_TTL_MS,
  ) {}

  get(): Promise<PortInfo[]> {
    const now = this.clock.monotonic()
    if (this.last && now - this.at < this.ttlMs) return this.last
    const p = this.list()
    this.last = p
    this.at = now
    p.catch(() => { if (this.last === p) this.last = null })
    return p
  }
}

const shared = new SharedPortList()

/** The serial ports present, for an error message: at most one listing per PORT_LIST_TTL_MS for the whole process. */
export function portsForMessage(): Promise<PortInfo[]> {
  return shared.get()
}

/** A serial port stream on the platform's binding (serialport's `new SerialPort(options)`). */
export function openSerialPort(options: Omit<OpenOptions<AutoDetectTypes>, 'binding'>): SerialPortStream<AutoDetectTypes> {
  const { SerialPortStream: Stream } = require('@serialport/stream') as typeof import('@serialport/stream')
  return new Stream({ binding: binding(), ...options } as OpenOptions<AutoDetectTypes>)
}
