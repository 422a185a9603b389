/** `safehouse pair button` (issue 7 §2): placeholder until it lands. */
export async function pairButton(_argv: string[]): Promise<number> {
  throw new Error('safehouse pair button is not built yet (issue 7)')
}
