/**
 * The D-Bus calls the transport makes to bluetoothd (org.bluez) and to the
 * bus daemon, as plain method-call messages on one MessageBus: no proxy
 * objects, so no Introspect round trip per object (dbus-next's
 * getProxyObject introspects every time, which node-ble does per call chain).
 *
 * BlueZ references: doc/org.bluez.Adapter.rst (SetDiscoveryFilter,
 * StartDiscovery, StopDiscovery, Powered, Discovering) and the D-Bus spec
 * (GetNameOwner, AddMatch, ObjectManager.GetManagedObjects).
 */
import type { MessageBus, Message as DbusMessage } from 'dbus-next'
import { dbusNext } from './hw-bluez-bus.js'
import type { Clock } from '../time/clock.js'
import { errorName, errorText } from './bluez-errors.js'
import type { VariantLike } from './bluez-variants.js'

export const BLUEZ = 'org.bluez'
export const ADAPTER1 = 'org.bluez.Adapter1'
export const DEVICE1 = 'org.bluez.Device1'
export const PROPERTIES = 'org.freedesktop.DBus.Properties'
export const OBJECT_MANAGER = 'org.freedesktop.DBus.ObjectManager'
export const DBUS_NAME = 'org.freedesktop.DBus'

/** path -> interface -> property -> variant, as GetManagedObjects returns it. */
export type ManagedObjects = Record<string, Record<string, Record<string, VariantLike>>>

/** What "start discovery" ended as. */
export type StartResult = 'started' | 'in-progress'

export class BluezCalls {
  constructor(
    private readonly bus: MessageBus,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {}

  /** One method call with a timeout (dbus-next's call() has none: a hung bluetoothd would hang us). */
  call(destination: string, path: string, iface: string, member: string, signature = '', body: unknown[] = []): Promise<DbusMessage> {
    const msg = new (dbusNext().Message)({ destination, path, interface: iface, member, signature, body })
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        reject(Object.assign(new Error(`${iface}.${member} on ${path}: no reply within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' }))
      }, this.timeoutMs)
      this.bus.call(msg).then(
        (reply) => { this.clock.clearTimeout(timer); resolve(reply as DbusMessage) },
        (e: unknown) => { this.clock.clearTimeout(timer); reject(e) },
      )
    })
  }

  addMatch(rule: string): Promise<DbusMessage> {
    return this.call(DBUS_NAME, '/org/freedesktop/DBus', DBUS_NAME, 'AddMatch', 's', [rule])
  }

  /** Unique name owning org.bluez, or null when bluetoothd is not on the bus. */
  async bluezOwner(): Promise<string | null> {
    try {
      const reply = await this.call(DBUS_NAME, '/org/freedesktop/DBus', DBUS_NAME, 'GetNameOwner', 's', [BLUEZ])
      return String(reply.body[0])
    } catch (e) {
      if (errorName(e) === 'org.freedesktop.DBus.Error.NameHasNoOwner') return null
      throw e
    }
  }

  async managedObjects(): Promise<ManagedObjects> {
    const reply = await this.call(BLUEZ, '/', OBJECT_MANAGER, 'GetManagedObjects')
    return (reply.body[0] ?? {}) as ManagedObjects
  }

  async adapterProperty(path: string, name: 'Powered' | 'Discovering'): Promise<unknown> {
    const reply = await this.call(BLUEZ, path, PROPERTIES, 'Get', 'ss', [ADAPTER1, name])
    return (reply.body[0] as VariantLike).value
  }

  async setPowered(path: string, on: boolean): Promise<void> {
    await this.call(BLUEZ, path, PROPERTIES, 'Set', 'ssv', [ADAPTER1, 'Powered', new (dbusNext().Variant)('b', on)])
  }

  /**
   * LE only, and DuplicateData on: BlueZ then reports every advertisement
   * (PropertiesChanged even when the data did not change) instead of only
   * changes, so a repeated press with the same payload is still seen (issue 4 §2).
   * No RSSI/Pathloss/UUIDs: we want every device (unknown ones matter while pairing).
   */
  async setDiscoveryFilter(path: string): Promise<void> {
    await this.call(BLUEZ, path, ADAPTER1, 'SetDiscoveryFilter', 'a{sv}', [{
      Transport: new (dbusNext().Variant)('s', 'le'),
      DuplicateData: new (dbusNext().Variant)('b', true),
    }])
  }

  /**
   * org.bluez.Error.InProgress means our session is already discovering, or
   * the controller is busy with another scanner: not a failure (issue 4 §5
   * "another program already scanning does not stop us"); the caller checks
   * Discovering and retries later if it is still off.
   */
  async startDiscovery(path: string): Promise<StartResult> {
    try {
      await this.call(BLUEZ, path, ADAPTER1, 'StartDiscovery')
      return 'started'
    } catch (e) {
      if (errorName(e) === 'org.bluez.Error.InProgress') return 'in-progress'
      throw e
    }
  }

  /** Stop our session; "not discovering" / "no discovery started" are fine. */
  async stopDiscovery(path: string): Promise<void> {
    try {
      await this.call(BLUEZ, path, ADAPTER1, 'StopDiscovery')
    } catch (e) {
      const name = errorName(e)
      if (name === 'org.bluez.Error.NotReady' || name === 'org.bluez.Error.Failed' || name === 'org.bluez.Error.NotAuthorized') return
      throw Object.assign(new Error(errorText(e)), { type: name })
    }
  }
}

/**
 * Match rules: one per signal family for the whole org.bluez tree (not a
 * proxy per device). Matching on the well-known sender makes the bus daemon
 * follow a restarted bluetoothd by itself.
 */
export function matchRules(adapterObjectPath: string): string[] {
  return [
    `type='signal',sender='${BLUEZ}',interface='${PROPERTIES}',member='PropertiesChanged',arg0='${DEVICE1}',path_namespace='${adapterObjectPath}'`,
    `type='signal',sender='${BLUEZ}',interface='${PROPERTIES}',member='PropertiesChanged',arg0='${ADAPTER1}',path='${adapterObjectPath}'`,
    `type='signal',sender='${BLUEZ}',interface='${OBJECT_MANAGER}',path='/'`,
    `type='signal',sender='${DBUS_NAME}',interface='${DBUS_NAME}',member='NameOwnerChanged',arg0='${BLUEZ}'`,
  ]
}
