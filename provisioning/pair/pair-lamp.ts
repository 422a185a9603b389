/** `safehouse pair lamp` (issue 7 §2): placeholder until it lands. */
export async function pairLamp(_argv: string[]): Promise<number> {
  throw new Error('safehouse pair lamp is not built yet (issue 7)')
}
