import { createHash, randomBytes } from "node:crypto";

/** `sk-gw-` + 32 lowercase hex digits (128 random bits). */
export const API_KEY_PATTERN = /^sk-gw-[0-9a-f]{32}$/;
const PREFIX_HEX_DIGITS = 8;

export interface GeneratedApiKey {
  plaintext: string;
  hash: string;
  prefix: string;
}

export function generateApiKey(): GeneratedApiKey {
  const plaintext = `sk-gw-${randomBytes(16).toString("hex")}`;
  return { plaintext, hash: hashApiKey(plaintext), prefix: displayPrefix(plaintext) };
}

/** SHA-256 is enough for 128-bit random keys: no dictionary to attack, and it keeps the /v1 lookup cheap. */
export function hashApiKey(plaintext: string): string {
  return createHash("sha256").update(plaintext).digest("hex");
}

export function displayPrefix(plaintext: string): string {
  return plaintext.slice(0, "sk-gw-".length + PREFIX_HEX_DIGITS);
}

export function isWellFormedApiKey(text: string): boolean {
  return API_KEY_PATTERN.test(text);
}
