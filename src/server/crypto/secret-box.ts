import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM for upstream provider keys at rest. Ciphertext format: `v1.<iv>.<tag>.<data>`, each base64url. */
export interface SecretBox {
  encrypt(plaintext: string): string;
  decrypt(ciphertext: string): string;
  /** Whether the current key (not a previous one) wrote this: what a re-encryption can leave alone. */
  isCurrent(ciphertext: string): boolean;
}

/** The plaintext, or null when `key` did not write it (GCM's tag does not match). */
function openWith(key: Buffer, iv: string, tag: string, data: string): string | null {
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"), { authTagLength: TAG_BYTES });
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  try {
    return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}

/** Accepts 32 bytes as 64 hex digits or as base64/base64url. */
export function parseEncryptionKey(text: string): Buffer {
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, "hex") : Buffer.from(text, "base64");
  if (key.length !== 32) throw new Error("ENCRYPTION_KEY must be 32 bytes, as 64 hex digits or base64");
  return key;
}

/**
 * Encrypts with `key`; decrypts with it, or with one of `previousKeys` (a rotation in progress: what they encrypted
 * stays readable until it is re-encrypted). GCM's tag tells the right key from a wrong one.
 */
export function createSecretBox(key: Buffer, previousKeys: readonly Buffer[] = []): SecretBox {
  if (key.length !== 32 || previousKeys.some((previous) => previous.length !== 32)) {
    throw new Error("SecretBox keys must be 32 bytes");
  }
  const keys = [key, ...previousKeys];
  return {
    encrypt(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, iv.toString("base64url"), tag.toString("base64url"), data.toString("base64url")].join(".");
    },
    decrypt(ciphertext) {
      const [version, iv, tag, data] = ciphertext.split(".");
      if (version !== VERSION || iv === undefined || tag === undefined || data === undefined) {
        throw new Error("Unrecognised secret ciphertext");
      }
      for (const candidate of keys) {
        const plaintext = openWith(candidate, iv, tag, data);
        if (plaintext !== null) return plaintext;
      }
      throw new Error("the secret cannot be decrypted with ENCRYPTION_KEY (or ENCRYPTION_KEY_PREVIOUS)");
    },
    isCurrent(ciphertext) {
      const [version, iv, tag, data] = ciphertext.split(".");
      if (version !== VERSION || iv === undefined || tag === undefined || data === undefined) return false;
      return openWith(key, iv, tag, data) !== null;
    },
  };
}
