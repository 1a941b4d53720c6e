import { createHash } from "node:crypto";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

/**
 * A digest of every input's path, size and modification time under `root`: cheap, and changes whenever a file does.
 * A build whose recorded stamp equals the sources' current one is up to date.
 */
export function sourceStamp(root: string, inputs: readonly string[]): string {
  const hash = createHash("sha256");
  const visit = (entry: string) => {
    const full = path.join(root, entry);
    if (!existsSync(full)) return;
    const stats = statSync(full);
    if (stats.isDirectory()) {
      for (const child of readdirSync(full).sort()) visit(path.join(entry, child));
    } else {
      hash.update(`${entry}\0${stats.size}\0${stats.mtimeMs}\n`);
    }
  };
  inputs.forEach(visit);
  return hash.digest("hex");
}
