import { describe, expect, it } from "vitest";
import { readAhead } from "~/server/services/read-ahead";

/** A reader of `pieces` that records when it starts, what it was asked for, and whether it was closed. */
function recordedReader(name: string, pieces: number, log: string[], failAt?: number) {
  return async function* (): AsyncGenerator<string> {
    log.push(`${name} started`);
    try {
      for (let piece = 0; piece < pieces; piece++) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        if (piece === failAt) throw new Error(`${name} failed`);
        log.push(`${name} read ${piece}`);
        yield `${name}${piece}`;
      }
    } finally {
      log.push(`${name} closed`);
    }
  };
}

describe("readAhead", () => {
  it("gives every reader's pieces in the readers' order", async () => {
    const log: string[] = [];
    const readers = ["a", "b", "c", "d"].map((name) => recordedReader(name, 2, log));
    const pieces: string[] = [];
    for await (const piece of readAhead(readers, 2)) pieces.push(piece);
    expect(pieces).toEqual(["a0", "a1", "b0", "b1", "c0", "c1", "d0", "d1"]);
  });

  it("starts at most `depth` readers, and a reader ahead reads only its first piece", async () => {
    const log: string[] = [];
    const readers = ["a", "b", "c", "d"].map((name) => recordedReader(name, 3, log));
    const pieces = readAhead(readers, 3);
    expect((await pieces.next()).value).toBe("a0");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log).toEqual(["a started", "b started", "c started", "a read 0", "b read 0", "c read 0"]);
    await pieces.return(undefined);
    // Stopping early closes each reader started, the ones ahead included; the one never started stays so.
    expect(log.filter((entry) => entry.endsWith("closed")).sort()).toEqual(["a closed", "b closed", "c closed"]);
    expect(log).not.toContain("d started");
  });

  it("throws a reader's failure in its turn, after the pieces before it, and closes the readers ahead", async () => {
    const log: string[] = [];
    const readers = [recordedReader("a", 2, log), recordedReader("b", 2, log, 0), recordedReader("c", 2, log)];
    const pieces: string[] = [];
    // b fails while a is still being read: nothing is thrown (nor left unhandled) until b's turn.
    await expect(
      (async () => {
        for await (const piece of readAhead(readers, 3)) {
          pieces.push(piece);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })(),
    ).rejects.toThrow("b failed");
    expect(pieces).toEqual(["a0", "a1"]);
    expect(log).toContain("c closed");
  });
});
