import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { PRODUCTION_NODE_FLAGS } from "~/node-flags";
import { SERVER_ENTRY } from "~/scripts/server-build";

it("`npm start` runs Node with the production flags the bench measures", () => {
  const { scripts } = JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> };
  // The last command of `npm start` runs the server; the ones before it build.
  const start = scripts.start?.split("&&").at(-1)?.trim().split(/\s+/) ?? [];
  expect(start[0]).toBe("node");
  expect(start.at(-1)).toBe(SERVER_ENTRY);
  // Node reads its own flags only before the script it runs.
  const nodeFlags = start.slice(1, -1);
  for (const flag of PRODUCTION_NODE_FLAGS) expect(nodeFlags).toContain(flag);
});
