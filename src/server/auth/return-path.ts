/** The request header through which src/proxy.ts tells layouts the page that was asked for. */
export const REQUEST_PATH_HEADER = "x-tollgate-request-path";

/** Where sign-in goes when nothing (or nothing safe) was asked for. */
export const DEFAULT_AFTER_SIGN_IN = "/keys";

/**
 * A path on this site to return to after signing in, or null: only a local path ("/billing?tab=1"), never another
 * site ("//evil.example", "https://…", "/\\evil.example"), so the sign-in page cannot be used to send people away.
 */
export function safeReturnPath(value: unknown): string | null {
  if (typeof value !== "string" || !value.startsWith("/") || value.length > 2_000) return null;
  if (value.startsWith("//") || value.startsWith("/\\")) return null;
  // Browsers drop tabs and newlines from URLs: "/\t/evil.example" would become "//evil.example".
  for (const character of value) if (character.charCodeAt(0) < 0x20) return null;
  return value;
}

/** The sign-in page, asked to come back to `path` afterwards. */
export function signInPathFor(path: string | null): string {
  const safe = safeReturnPath(path);
  return safe === null || safe === DEFAULT_AFTER_SIGN_IN ? "/sign-in" : `/sign-in?next=${encodeURIComponent(safe)}`;
}
