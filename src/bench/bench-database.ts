/** With DATABASE_URL set, the bench runs on a fresh database on that server, dropped when the bench ends. */
import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { onCleanup } from "./cleanup";

export interface BenchDatabase {
  name: string;
  url: string;
}

function adminConnection(serverUrl: string) {
  return postgres(serverUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
}

export async function createBenchDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `tollgate_bench_${randomBytes(5).toString("hex")}`;
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const admin = adminConnection(serverUrl);
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  onCleanup(`drop database ${name}`, async () => {
    const dropper = adminConnection(serverUrl);
    try {
      // FORCE: the gateway should have closed its pool already, but a leftover session must not keep the database.
      await dropper.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } catch (error) {
      process.stderr.write(
        `bench: could not drop database ${name} (${error instanceof Error ? error.message : String(error)}); drop it by hand\n`,
      );
    } finally {
      await dropper.end({ timeout: 5 });
    }
  });
  return { name, url: url.toString() };
}

/** The URL with its password hidden, for printing. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password !== "") url.password = "***";
    return url.toString();
  } catch {
    return "(unparseable URL)";
  }
}
