/** `safehouse walk-test` (issue 7): placeholder until it lands. */
export async function walkTest(_argv: string[]): Promise<number> {
  throw new Error('safehouse walk-test is not built yet (issue 7)')
}
