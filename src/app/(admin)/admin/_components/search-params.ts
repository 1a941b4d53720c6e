/** A page's query string as Next.js hands it over. */
export type SearchParams = Record<string, string | string[] | undefined>;

/** A query parameter's trimmed text, or undefined when absent, repeated or blank. */
export function textParam(params: SearchParams, name: string): string | undefined {
  const value = params[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/**
 * A `YYYY-MM-DD` parameter as the start of that UTC day; with `endOfDay`, the next day's start, so that a "to" day is
 * included. Anything else is undefined.
 */
export function dayParam(value: string | undefined, endOfDay = false): Date | undefined {
  if (value === undefined || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return undefined;
  const start = new Date(`${value}T00:00:00Z`);
  if (Number.isNaN(start.getTime())) return undefined;
  return endOfDay ? new Date(start.getTime() + 86_400_000) : start;
}

/** The named parameters that are set, to carry into the next page's link. */
export function keptParams(params: SearchParams, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    names.flatMap((name) => {
      const value = textParam(params, name);
      return value === undefined ? [] : [[name, value]];
    }),
  );
}
