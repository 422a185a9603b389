/** `safehouse status` (issue 7): placeholder until it lands. */
export async function status(_argv: string[]): Promise<number> {
  throw new Error('safehouse status is not built yet (issue 7)')
}
