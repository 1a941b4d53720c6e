/**
 * `npm run lockfile:complete`: puts back the lockfile entries of Next's platform-specific SWC binaries that npm drops
 * when the registry it installs from does not carry them (a partial mirror). Without the entries `npm ci` refuses
 * the lockfile on every machine; with them, each platform installs the binary it needs and skips the others.
 * Run it after any `npm install` that rewrote package-lock.json.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";

const LOCKFILE = "package-lock.json";
const SWC_PLATFORM = /^@next\/swc-(darwin|linux|win32)-(arm64|x64)(?:-\w+)?$/;

const entrySchema = z.looseObject({
  version: z.string().optional(),
  optionalDependencies: z.record(z.string(), z.string()).optional(),
});
const lockfileSchema = z.looseObject({ packages: z.record(z.string(), entrySchema) });

const raw: unknown = JSON.parse(readFileSync(LOCKFILE, "utf8"));
// Validated, but the original object is edited: zod's output would reorder keys and rewrite the whole file.
lockfileSchema.parse(raw);
const lockfile = raw as z.infer<typeof lockfileSchema>;
const next = lockfile.packages["node_modules/next"];
const added: string[] = [];
for (const [name, version] of Object.entries(next?.optionalDependencies ?? {})) {
  const platform = SWC_PLATFORM.exec(name);
  const key = `node_modules/${name}`;
  if (platform === null || lockfile.packages[key] !== undefined) continue;
  lockfile.packages[key] = {
    version,
    cpu: [platform[2]],
    license: "MIT",
    optional: true,
    os: [platform[1]],
    engines: { node: ">= 10" },
  };
  added.push(name);
}
// npm keeps entries sorted by path; so do we, so that npm's next rewrite produces no spurious diff.
const [root, ...rest] = Object.entries(lockfile.packages);
lockfile.packages = Object.fromEntries([root!, ...rest.sort(([a], [b]) => a.localeCompare(b, "en"))]);
writeFileSync(LOCKFILE, `${JSON.stringify(lockfile, null, 2)}\n`);
process.stdout.write(added.length === 0 ? "package-lock.json is complete\n" : `added ${added.join(", ")}\n`);
