/**
 * The serial ports of this host, and the SerialPort stream the drivers open, from serialport's
 * own parts: @serialport/bindings-cpp (the native binding) and @serialport/stream. The
 * `serialport` package is these two plus all twelve of its parser packages, loaded and compiled
 * at its first require whether used or not; our drivers use none of them (issue 13 §6: idle RSS).
 * `new SerialPortStream({ binding, ...options })` is exactly what serialport 13's `SerialPort`
 * constructor does. Loaded at the first call, not at import (issue 13 §5).
 */
import { createRequire } from 'node:module'
import type { AutoDetectTypes } from '@serialport/bindings-cpp'
import type { SerialPortStream, OpenOptions } from '@serialport/stream'

const require = createRequire(import.meta.url)
let detected: AutoDetectTypes | null = null

function binding(): AutoDetectTypes {
  return (detected ??= (require('@serialport/bindings-cpp') as typeof import('@serialport/bindings-cpp')).autoDetect())
}

/** What the OS lists (serialport's `SerialPort.list()`). */
export function listPorts(): ReturnType<AutoDetectTypes['list']> {
  return binding().list()
}

/** A serial port stream on the platform's binding (serialport's `new SerialPort(options)`). */
export function openSerialPort(options: Omit<OpenOptions<AutoDetectTypes>, 'binding'>): SerialPortStream<AutoDetectTypes> {
  const { SerialPortStream: Stream } = require('@serialport/stream') as typeof import('@serialport/stream')
  return new Stream({ binding: binding(), ...options } as OpenOptions<AutoDetectTypes>)
}
