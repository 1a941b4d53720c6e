import { describe, expect, it } from "vitest";
import { createSecretBox, parseEncryptionKey } from "~/server/crypto/secret-box";

const box = createSecretBox(parseEncryptionKey("1".repeat(64)));

describe("SecretBox", () => {
  it("round-trips and never stores the plaintext", () => {
    const sealed = box.encrypt("sk-live-upstream-secret");
    expect(sealed).not.toContain("sk-live-upstream-secret");
    expect(box.decrypt(sealed)).toBe("sk-live-upstream-secret");
  });

  it("uses a fresh IV each time", () => {
    expect(box.encrypt("same")).not.toBe(box.encrypt("same"));
  });

  it("detects tampering and the wrong key", () => {
    const sealed = box.encrypt("secret");
    const parts = sealed.split(".");
    const flipped = [...parts.slice(0, 3), Buffer.from("tampered").toString("base64url")].join(".");
    expect(() => box.decrypt(flipped)).toThrow();
    expect(() => createSecretBox(parseEncryptionKey("2".repeat(64))).decrypt(sealed)).toThrow();
  });

  it("during a rotation reads what the previous key wrote, and writes only under the current one", () => {
    const previous = parseEncryptionKey("4".repeat(64));
    const current = parseEncryptionKey("5".repeat(64));
    const written = createSecretBox(previous).encrypt("sk-before");
    const rotating = createSecretBox(current, [previous]);
    expect(rotating.decrypt(written)).toBe("sk-before");
    const rewritten = rotating.encrypt(rotating.decrypt(written));
    expect(createSecretBox(current).decrypt(rewritten)).toBe("sk-before");
    expect(() => createSecretBox(previous).decrypt(rewritten)).toThrow();
    expect(() => createSecretBox(current).decrypt(written)).toThrow(/ENCRYPTION_KEY/);
  });

  it("accepts 32-byte keys as hex or base64 only", () => {
    expect(parseEncryptionKey(Buffer.alloc(32, 9).toString("base64"))).toHaveLength(32);
    expect(() => parseEncryptionKey("too-short")).toThrow(/32 bytes/);
  });
});
