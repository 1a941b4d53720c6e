import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import path from "node:path";
import { asc } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "~/server/db";
import { balances, generations, ledgerEntries } from "~/server/db/schema";
import { controlSocketPath, sendToControlServer } from "~/cli/control-socket";
import { TEST_SECRETS } from "../../helpers/gateway-harness";
import { startGatewayProcess, type GatewayProcess } from "../../helpers/gateway-process";
import { lastLine, runCliProcess, SLOW } from "./cli-harness";

/*
 * `tollgate backup` of the embedded database while the server serves traffic, then `tollgate restore` after the
 * directory is wiped: every balance and ledger row comes back, and `billing reconcile` agrees.
 */

const scratch = mkdtempSync(path.join(tmpdir(), "tollgate-backup-"));
const dataDir = path.join(scratch, "data");
const pgliteDir = path.join(scratch, "pglite");
const env = { DATA_DIR: dataDir, PGLITE_DIR: pgliteDir, ...TEST_SECRETS };
const running: GatewayProcess[] = [];

afterAll(() => {
  for (const gateway of running) gateway.child.kill("SIGKILL");
  rmSync(scratch, { recursive: true, force: true });
});

/** A command run by the server itself over its control socket, as the CLI forwards it: no process to start. */
async function server(args: string[]) {
  const result = await sendToControlServer(controlSocketPath({ DATA_DIR: dataDir }), args, "cli:backup-test");
  expect(result?.exitCode, `${args.join(" ")}: ${result?.stderr}`).toBe(0);
  return result!;
}

async function cli(args: string[], variables: Record<string, string> = env) {
  const result = await runCliProcess(args, variables);
  expect(result.exitCode, `${args.join(" ")}: ${result.stderr}`).toBe(0);
  return result;
}

/** Every account's balance and every ledger row, read straight from a PGlite directory no server has open. */
async function readMoney(dir: string) {
  const database = openDatabase({ kind: "pglite", dataDir: dir });
  try {
    const accounts = await database.db
      .select({ userId: balances.userId, balanceNano: balances.balanceNano })
      .from(balances)
      .orderBy(asc(balances.userId));
    const ledger = await database.db.select().from(ledgerEntries).orderBy(asc(ledgerEntries.id));
    const calls = await database.db.$count(generations);
    return { accounts, ledger, calls };
  } finally {
    await database.close();
  }
}

describe("backup and restore of the embedded database", () => {
  it(
    "backs up while calls are billed, and a wiped directory restored from it holds every balance and ledger row",
    async () => {
      let gateway = await startGatewayProcess(env);
      running.push(gateway);
      const keys: string[] = [];
      for (const name of ["first", "second"]) {
        const email = `${name}@backup.example`;
        await server(["user", "create", "--email", email, "--password", "password-123"]);
        await server(["credits", "add", "--email", email, "--usd", "5"]);
        keys.push(lastLine((await server(["key", "create", "--email", email, "--name", "traffic"])).stdout));
      }

      // Calls from both accounts, four at a time, from before the backup starts until after it ends.
      let traffic = true;
      let answered = 0;
      const worker = async (key: string) => {
        while (traffic) {
          const response = await fetch(`${gateway.baseUrl}/chat/completions`, {
            method: "POST",
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            body: JSON.stringify({ model: "tollgate/echo", messages: [{ role: "user", content: "count me" }] }),
          });
          expect(response.status).toBe(200);
          await response.text();
          answered += 1;
        }
      };
      const workers = [...keys, ...keys].map(worker);
      while (answered < 20) await new Promise((resolve) => setTimeout(resolve, 20));
      const live = path.join(scratch, "live.tar.gz");
      const backedUp = await cli(["backup", live]);
      expect(lastLine(backedUp.stdout)).toMatch(/^Backed up .* to .*live\.tar\.gz \(\d+\.\d MB\)/);
      const duringBackup = answered;
      while (answered < duringBackup + 20) await new Promise((resolve) => setTimeout(resolve, 20));
      traffic = false;
      await Promise.all(workers);
      // The file holds every account's data: only its owner may read it.
      expect(statSync(live).mode & 0o777).toBe(0o600);
      // Never over an existing file by accident.
      const again = await sendToControlServer(
        controlSocketPath({ DATA_DIR: dataDir }),
        ["backup", live],
        "cli:backup-test",
      );
      expect(again?.exitCode).toBe(1);
      expect(again?.stderr).toContain("already exists");

      // At rest, a second backup: the server writes out the calls its usage writer still holds first, so this one
      // holds every call answered. Then the server stops.
      const atRest = path.join(scratch, "at-rest.tar.gz");
      await server(["backup", atRest]);
      // Restoring needs the database closed: the server refuses to be restored under.
      const refused = await runCliProcess(["restore", atRest], env);
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toContain("stop it");
      expect(await gateway.stop()).toBe(0);
      const original = await readMoney(pgliteDir);
      expect(original.ledger.filter((entry) => entry.kind === "usage").length).toBeGreaterThan(0);

      // The disk is lost: the directory wiped, then restored from the backup taken at rest.
      rmSync(pgliteDir, { recursive: true, force: true });
      const restored = await cli(["restore", atRest]);
      expect(lastLine(restored.stdout)).toMatch(/^Restored .* All \d+ accounts match their ledger \(\d+ entries\)\.$/);
      expect(await readMoney(pgliteDir)).toEqual(original);

      // The backup taken during traffic restores (into another directory) to a consistent earlier state: every
      // ledger row it has is the original's own, and every balance agrees with its ledger (the restore checked).
      const earlierDir = path.join(scratch, "earlier");
      const earlierRestore = await cli(["restore", live], { ...env, PGLITE_DIR: earlierDir });
      expect(lastLine(earlierRestore.stdout)).toContain("accounts match their ledger");
      const earlier = await readMoney(earlierDir);
      expect(earlier.ledger.length).toBeLessThan(original.ledger.length);
      expect(earlier.ledger.filter((entry) => entry.kind === "usage").length).toBeGreaterThan(0);
      expect(earlier.ledger).toEqual(original.ledger.slice(0, earlier.ledger.length));

      // Restoring over a database keeps the one it replaces beside it.
      const over = await cli(["restore", atRest], { ...env, PGLITE_DIR: earlierDir });
      expect(lastLine(over.stdout)).toMatch(/kept in .*earlier\.replaced-/);

      // The restored server serves the same keys with the same balances.
      gateway = await startGatewayProcess(env);
      running.push(gateway);
      const credits = await fetch(`${gateway.baseUrl}/credits`, { headers: { authorization: `Bearer ${keys[0]}` } });
      expect(credits.status).toBe(200);
      const call = await fetch(`${gateway.baseUrl}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${keys[0]}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "tollgate/echo", messages: [{ role: "user", content: "after restore" }] }),
      });
      expect(call.status).toBe(200);
      expect(await gateway.stop()).toBe(0);
    },
    SLOW,
  );

  it("refuses what is not a backup, and a missing file, without touching the database", async () => {
    const bogus = path.join(scratch, "bogus.tar.gz");
    await import("node:fs/promises").then(({ writeFile }) => writeFile(bogus, "not an archive"));
    const dir = path.join(scratch, "untouched");
    const notArchive = await runCliProcess(["restore", bogus], { ...env, PGLITE_DIR: dir });
    expect(notArchive.exitCode).toBe(1);
    expect(notArchive.stderr).toContain("not a backup");
    const missing = await runCliProcess(["restore", path.join(scratch, "nope.tar.gz")], { ...env, PGLITE_DIR: dir });
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("no such file");
    expect(() => statSync(dir)).toThrow();
  });

  it(
    "puts the database back when a restore over it fails",
    async () => {
      const dir = path.join(scratch, "kept");
      await cli(["restore", path.join(scratch, "at-rest.tar.gz")], { ...env, PGLITE_DIR: dir });
      const before = await readMoney(dir);
      // A gzip, but not of a database: it gets past the first check and fails inside.
      const damaged = path.join(scratch, "damaged.tar.gz");
      writeFileSync(damaged, gzipSync(Buffer.from("this archive holds no database")));
      const failed = await runCliProcess(["restore", damaged], { ...env, PGLITE_DIR: dir });
      expect(failed.exitCode).toBe(1);
      expect(readdirSync(scratch).filter((name) => name.startsWith("kept."))).toEqual([]);
      expect(await readMoney(dir)).toEqual(before);
    },
    SLOW,
  );
});
