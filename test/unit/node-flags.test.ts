import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { PRODUCTION_NODE_FLAGS } from "~/node-flags";

it("`npm start` runs Node with the production flags the bench measures", () => {
  const { scripts } = JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> };
  const start = scripts.start?.split(/\s+/) ?? [];
  expect(start[0]).toBe("node");
  // Node reads its own flags only before the script it runs.
  const nodeFlags = start.slice(1, start.indexOf("src/scripts/start.ts"));
  for (const flag of PRODUCTION_NODE_FLAGS) expect(nodeFlags).toContain(flag);
});
