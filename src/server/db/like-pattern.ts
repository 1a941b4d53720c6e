/** `%text%` for LIKE/ILIKE with the text's own `%`, `_` and `\` matched as themselves (PostgreSQL's default escape). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

/** `text%`, the text matched literally: everything that starts with it. */
export function prefixPattern(text: string): string {
  return `${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}
