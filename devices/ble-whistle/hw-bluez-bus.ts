/**
 * Opening the D-Bus system bus for the BLE transport (dbus-next): explicit
 * address or the system bus, wait for the Hello handshake with a timeout, and
 * report a lost connection once. dbus-next 0.10 never rejects on a dead
 * socket and does not surface a closed stream on MessageBus, hence the
 * timeout and the hook on its connection's 'end'.
 */
import { createRequire } from 'node:module'
import type DbusNext from 'dbus-next'
import type { MessageBus } from 'dbus-next'
import type { EventEmitter } from 'node:events'
import type { Clock } from '../time/clock.js'
import { errorText } from './bluez-errors.js'

let lib: typeof DbusNext | null = null
/**
 * dbus-next, loaded at the first bus connect rather than when the driver registry is imported
 * (issue 13 §5-6: the embedded broker listens before it is read; a post without BLE never holds it).
 */
export function dbusNext(): typeof DbusNext {
  return (lib ??= createRequire(import.meta.url)('dbus-next') as typeof DbusNext)
}

/**
 * Resolves with a connected bus, or rejects with the socket/auth error (the
 * bus is then already disconnected). `onLost` fires at most once, only after
 * a successful connect, when the daemon goes away.
 */
export async function connectBus(busAddress: string, clock: Clock, timeoutMs: number, onLost: (bus: MessageBus, why: string) => void): Promise<MessageBus> {
  const dbus = dbusNext()
  const bus = busAddress
    // sessionBus() is dbus-next's "connect to this address"; systemBus() reads $DBUS_SYSTEM_BUS_ADDRESS.
    ? dbus.sessionBus({ busAddress })
    : dbus.systemBus()
  let ready = false
  let lost = false
  const lose = (why: string): void => {
    if (!ready || lost) return
    lost = true
    onLost(bus, why)
  }
  // Always listening: an 'error' without a listener would throw out of the event loop.
  bus.on('error', (e: unknown) => lose(errorText(e)))
  ;(bus as unknown as { _connection?: EventEmitter })._connection?.on('end', () => lose('connection closed'))
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = clock.setTimeout(() => reject(Object.assign(new Error('no answer from the bus daemon'), { code: 'ETIMEDOUT' })), timeoutMs)
      bus.once('connect', () => { clock.clearTimeout(timer); resolve() })
      bus.once('error', (e: unknown) => { clock.clearTimeout(timer); reject(e) })
    })
  } catch (e) {
    closeBus(bus)
    throw e
  }
  ready = true
  return bus
}

/**
 * Disconnect for good. dbus-next answers an incoming method call (a peer's
 * Introspect or Ping) that is still in the socket after disconnect() by
 * sending on the closed stream, which throws out of its socket handler and
 * would crash the process; after closing, sending is a no-op.
 */
export function closeBus(bus: MessageBus): void {
  try { bus.disconnect() } catch { /* already closed */ }
  const b = bus as unknown as { send(m: unknown): void; _connection?: { message(m: unknown): void } }
  b.send = () => {}
  if (b._connection) b._connection.message = () => {}
}
