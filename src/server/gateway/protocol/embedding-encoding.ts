/*
 * An embedding travels either as a JSON array of numbers or, with `encoding_format: "base64"`, as the base64 of its
 * values as little-endian float32 (OpenAI's format, which its SDKs ask for by default and decode themselves). The
 * gateway answers in the form the client asked for, converting when the upstream answered in the other one.
 */

const FLOAT32_BYTES = 4;
/** Standard base64 with its padding, as OpenAI sends it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export type EncodingFormat = "float" | "base64";

/** One embedding as an upstream answered it: numbers, or base64 of little-endian float32. */
export type UpstreamVector = readonly number[] | string;

/** The values as little-endian float32 (each rounded to the nearest float32), base64-encoded. */
export function floatsToBase64(values: readonly number[]): string {
  const bytes = Buffer.allocUnsafe(values.length * FLOAT32_BYTES);
  values.forEach((value, index) => bytes.writeFloatLE(value, index * FLOAT32_BYTES));
  return bytes.toString("base64");
}

/** The float32 values of a base64 embedding; null when the text is not base64 of whole float32 values. */
export function base64ToFloats(text: string): number[] | null {
  if (!BASE64.test(text)) return null;
  const bytes = Buffer.from(text, "base64");
  if (bytes.length % FLOAT32_BYTES !== 0) return null;
  const values = new Array<number>(bytes.length / FLOAT32_BYTES);
  for (let index = 0; index < values.length; index++) values[index] = bytes.readFloatLE(index * FLOAT32_BYTES);
  return values;
}

/**
 * The embedding in the form the client asked for: an upstream's answer in that form is passed on as it is, the other
 * form converted. Null when a base64 answer cannot be decoded (the upstream answered garbage).
 */
export function encodeEmbedding(vector: UpstreamVector, format: EncodingFormat): number[] | string | null {
  if (typeof vector === "string") {
    if (format === "base64") return BASE64.test(vector) ? vector : null;
    return base64ToFloats(vector);
  }
  return format === "base64" ? floatsToBase64(vector) : (vector as number[]);
}
