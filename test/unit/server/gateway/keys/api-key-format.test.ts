import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { displayPrefix, generateApiKey, hashApiKey, isWellFormedApiKey } from "~/server/gateway/keys/api-key-format";

describe("API keys", () => {
  it("are sk-gw- plus 32 hex digits, stored only as their SHA-256 and a display prefix", () => {
    const key = generateApiKey();
    expect(key.plaintext).toMatch(/^sk-gw-[0-9a-f]{32}$/);
    expect(key.hash).toBe(createHash("sha256").update(key.plaintext).digest("hex"));
    expect(key.prefix).toBe(key.plaintext.slice(0, 14));
    expect(key.hash).not.toContain(key.plaintext.slice(6));
  });

  it("are unique", () => {
    const keys = new Set(Array.from({ length: 1000 }, () => generateApiKey().plaintext));
    expect(keys.size).toBe(1000);
  });

  it.each([
    ["sk-gw-0123456789abcdef0123456789abcdef", true],
    ["sk-gw-0123456789ABCDEF0123456789abcdef", false],
    ["sk-gw-0123456789abcdef0123456789abcde", false],
    ["sk-0123456789abcdef0123456789abcdef", false],
    ["", false],
  ])("recognises %j as well formed: %s", (text, expected) => {
    expect(isWellFormedApiKey(text)).toBe(expected);
  });

  it("hashes deterministically", () => {
    expect(hashApiKey("sk-gw-x")).toBe(hashApiKey("sk-gw-x"));
    expect(displayPrefix("sk-gw-abcdef0123456789")).toBe("sk-gw-abcdef01");
  });
});
