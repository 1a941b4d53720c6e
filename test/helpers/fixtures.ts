import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

/** Recorded provider traffic, shared beside the repository (see its README). */
export const FIXTURES_DIR = path.resolve(process.cwd(), "../shared/fixtures/upstream");
export const SPEC_PATH = path.resolve(process.cwd(), "../shared/spec/openai-chat.schema.json");

export interface FixtureEntry {
  provider: string;
  name: string;
  response: string;
  request: string | null;
  kind: "json" | "sse";
  status: number;
  content_type: string;
  url: string;
}

let manifest: FixtureEntry[] | undefined;

export function fixtureManifest(): FixtureEntry[] {
  if (!existsSync(FIXTURES_DIR)) {
    throw new Error(
      `Provider fixtures not found at ${FIXTURES_DIR}: the shared/ folder must sit beside the repository`,
    );
  }
  manifest ??= JSON.parse(readFileSync(path.join(FIXTURES_DIR, "manifest.json"), "utf8")) as FixtureEntry[];
  return manifest;
}

/** A fixture by `<provider>/<name>`, e.g. `openai/text-stream-include-usage`. */
export function fixture(id: string): FixtureEntry & { body: string; requestBody: unknown } {
  const entry = fixtureManifest().find((candidate) => `${candidate.provider}/${candidate.name}` === id);
  if (entry === undefined) throw new Error(`No fixture ${id}`);
  return {
    ...entry,
    body: readFileSync(path.join(FIXTURES_DIR, entry.response), "utf8"),
    requestBody:
      entry.request === null ? null : JSON.parse(readFileSync(path.join(FIXTURES_DIR, entry.request), "utf8")),
  };
}
