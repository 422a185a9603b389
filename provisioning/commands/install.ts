/** `safehouse install` (issue 7): placeholder until it lands. */
export async function install(_argv: string[]): Promise<number> {
  throw new Error('safehouse install is not built yet (issue 7)')
}
