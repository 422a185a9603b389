/** `safehouse pair ble` (issue 7 §2): placeholder until it lands. */
export async function pairBle(_argv: string[]): Promise<number> {
  throw new Error('safehouse pair ble is not built yet (issue 7)')
}
