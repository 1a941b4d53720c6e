import { describe, expect, it } from "vitest";
import { base64ToFloats, encodeEmbedding, floatsToBase64 } from "~/server/gateway/protocol/embedding-encoding";

/** OpenAI's base64 embedding format, decoded independently of the code under test. */
function decodeFloat32LittleEndian(text: string): number[] {
  const bytes = Buffer.from(text, "base64");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / 4 }, (_, index) => view.getFloat32(index * 4, true));
}

const VALUES = [0.0023064255, -0.009327292, 0.015797347, -0.0077780345, 0, 1, -2.5, 3.4028234663852886e38];

describe("embedding encodings", () => {
  it("encodes numbers as base64 of little-endian float32, each the nearest float32", () => {
    const encoded = floatsToBase64(VALUES);
    expect(decodeFloat32LittleEndian(encoded)).toEqual(VALUES.map((value) => Math.fround(value)));
    // Exactly representable values survive exactly: 0.5 and -1 are 00 00 00 3f and 00 00 80 bf.
    expect(floatsToBase64([0.5, -1])).toBe("AAAAPwAAgL8=");
  });

  it("decodes base64 back to the float32 values", () => {
    const encoded = floatsToBase64(VALUES);
    expect(base64ToFloats(encoded)).toEqual(decodeFloat32LittleEndian(encoded));
    expect(base64ToFloats("AAAAPwAAgL8=")).toEqual([0.5, -1]);
    expect(base64ToFloats("")).toEqual([]);
  });

  it("refuses text that is not base64 of whole float32 values", () => {
    expect(base64ToFloats("AAAAPwA=")).toBeNull();
    expect(base64ToFloats("not base64!")).toBeNull();
    expect(base64ToFloats("AAAAPw")).toBeNull();
  });

  it("answers in the form asked for: the same form as it is, the other converted", () => {
    expect(encodeEmbedding(VALUES, "float")).toBe(VALUES);
    expect(encodeEmbedding("AAAAPwAAgL8=", "base64")).toBe("AAAAPwAAgL8=");
    expect(decodeFloat32LittleEndian(encodeEmbedding(VALUES, "base64") as string)).toEqual(
      VALUES.map((value) => Math.fround(value)),
    );
    expect(encodeEmbedding("AAAAPwAAgL8=", "float")).toEqual([0.5, -1]);
    expect(encodeEmbedding("garbage?", "float")).toBeNull();
    expect(encodeEmbedding("garbage?", "base64")).toBeNull();
  });
});
