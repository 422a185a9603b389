/** `safehouse init` (issue 7): placeholder until it lands. */
export async function init(_argv: string[]): Promise<number> {
  throw new Error('safehouse init is not built yet (issue 7)')
}
