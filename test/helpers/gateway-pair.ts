import { TEST_ACTOR } from "./audit";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createChangeBus, type ChangeBus } from "~/server/changes";
import { createSecretBox } from "~/server/crypto/secret-box";
import { silentLogger } from "~/server/gateway/logger";
import { createApiKey } from "~/server/services/api-keys";
import { addChannel, type ChannelModelMapping } from "~/server/services/channels";
import { addCredits } from "~/server/services/credits";
import { createUser } from "~/server/services/users";
import { TEST_SECRETS } from "./gateway-harness";
import { startGatewayProcess, type GatewayProcess } from "./gateway-process";
import { createTestDatabase, type TestDatabase } from "./test-database";

export interface GatewayPair {
  database: TestDatabase;
  /** The production entries, all on `database`. */
  gateways: GatewayProcess[];
  /** Publishes to every process, as an operator's CLI would (catalog changes, balance changes). */
  changes: ChangeBus;
  /** Stops the gateways with SIGTERM (each drains its usage writer first); safe to call twice. */
  stopGateways(): Promise<void>;
  /** Stops the gateways, closes the change bus and drops the database. */
  close(): Promise<void>;
}

/**
 * Two (or more) gateway processes sharing one fresh PostgreSQL database (TEST_DATABASE_URL), as a scale-out deployment
 * runs, with one OpenAI-compatible channel to a local upstream. The first process bootstraps the catalog; the channel
 * is added after it starts, so it reaches the first through NOTIFY and the others load it at start.
 */
export async function startGatewayPair(options: {
  channel: { name: string; baseUrl: string; models: ChannelModelMapping[] };
  variables?: Record<string, string>;
  /** How many processes; two unless said. */
  processes?: number;
}): Promise<GatewayPair> {
  const database = await createTestDatabase({ kind: "postgres" });
  const variables = {
    DATABASE_URL: database.url!,
    DATA_DIR: mkdtempSync(path.join(tmpdir(), "tollgate-pair-")),
    ...options.variables,
  };
  const gateways = [await startGatewayProcess(variables)];
  const changes = await createChangeBus(database.handle, silentLogger, { listen: false });
  await addChannel(
    database.handle.db,
    createSecretBox(Buffer.from(TEST_SECRETS.ENCRYPTION_KEY, "hex")),
    changes,
    {
      kind: "openai-compatible",
      ...options.channel,
    },
    TEST_ACTOR,
  );
  for (let started = 1; started < (options.processes ?? 2); started++) {
    gateways.push(await startGatewayProcess(variables));
  }
  const stopGateways = async () => {
    await Promise.all(gateways.splice(0).map((gateway) => gateway.stop("SIGTERM")));
  };
  return {
    database,
    gateways,
    changes,
    stopGateways,
    async close() {
      await stopGateways();
      await changes.close();
      await database.drop();
    },
  };
}

/**
 * A customer of the pair's database with $1 of credit and one key: `call` sends a demo-model completion with that key
 * to one process. `callEverywhere` first calls every process once, so each has the key in its cache.
 */
export async function pairCustomer(pair: GatewayPair, email: string, password: string) {
  const { db } = pair.database.handle;
  const user = await createUser(db, { email, password });
  await addCredits(db, pair.changes, { userId: user.id, amountNano: 1_000_000_000n });
  const { plaintext } = await createApiKey(db, { userId: user.id, name: "server" });
  const call = (baseUrl: string) =>
    fetch(`${baseUrl}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${plaintext}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "tollgate/echo", messages: [{ role: "user", content: "hi" }] }),
    });
  const statuses = async () => Promise.all(pair.gateways.map(async (gateway) => (await call(gateway.baseUrl)).status));
  return { user, apiKey: plaintext, call, statuses };
}
