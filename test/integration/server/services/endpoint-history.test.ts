import { TEST_ACTOR } from "../../../helpers/audit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChangeBus, type ChangeBus } from "~/server/changes";
import { createSecretBox } from "~/server/crypto/secret-box";
import type { Database } from "~/server/db";
import { silentLogger } from "~/server/gateway/logger";
import { emptyCounts, histogramBin, MINUTE_MS, type MinuteCounts } from "~/server/gateway/routing/channel-stats";
import { addChannelStatDeltas } from "~/server/services/channel-stats";
import { addChannel } from "~/server/services/channels";
import { endpointHistoryKey, HISTORY_HOURS, readEndpointHistory } from "~/server/services/endpoint-history";
import { createTestDatabase, type TestDatabase } from "../../../helpers/test-database";

let database: TestDatabase;
let db: Database;
let changes: ChangeBus;
let channelId: string;

const HOUR_MS = 60 * MINUTE_MS;
const NOW = Date.UTC(2026, 11, 5, 15, 20);

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.handle.db;
  changes = await createChangeBus(database.handle, silentLogger, { listen: false });
  const secretBox = createSecretBox(Buffer.alloc(32, 7));
  ({
    channel: { id: channelId },
  } = await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai",
      name: "history",
      baseUrl: "https://openai.invalid/v1",
      apiKey: "sk-test",
      models: [],
    },
    TEST_ACTOR,
  ));
});

afterAll(async () => {
  await changes?.close();
  await database?.drop();
});

/** A minute's counts: `firstTokenMs` and `throughput` are each success's sample. */
function minute(successes: { firstTokenMs: number; throughput: number }[], providerErrors = 0, requestErrors = 0) {
  const counts: MinuteCounts = emptyCounts();
  counts.successes = successes.length;
  counts.providerErrors = providerErrors;
  counts.requestErrors = requestErrors;
  for (const success of successes) {
    counts.firstToken[histogramBin(success.firstTokenMs)]! += 1;
    counts.throughput[histogramBin(success.throughput)]! += 1;
  }
  return counts;
}

describe("readEndpointHistory", () => {
  it("sums the stored minutes per hour over the last 24 hours, with empty hours in between", async () => {
    const currentHour = Math.floor(NOW / HOUR_MS) * HOUR_MS;
    const fast = { firstTokenMs: 200, throughput: 80 };
    const slow = { firstTokenMs: 2_000, throughput: 20 };
    await addChannelStatDeltas(db, [
      // Two minutes of the current hour: 3 successes, 1 provider error, 1 request error.
      { channelId, upstreamModel: "m", minute: currentHour + 5 * MINUTE_MS, counts: minute([fast, fast], 1) },
      { channelId, upstreamModel: "m", minute: currentHour + 9 * MINUTE_MS, counts: minute([slow], 0, 1) },
      // Three hours ago: only slow calls.
      { channelId, upstreamModel: "m", minute: currentHour - 3 * HOUR_MS, counts: minute([slow, slow]) },
      // Older than the window, and another model of the same channel: both left out.
      { channelId, upstreamModel: "m", minute: currentHour - 30 * HOUR_MS, counts: minute([fast]) },
      { channelId, upstreamModel: "other", minute: currentHour, counts: minute([fast], 5) },
    ]);

    const endpoint = { channelId, upstreamModel: "m" };
    const history = (await readEndpointHistory(db, [endpoint], NOW)).get(endpointHistoryKey(endpoint))!;
    expect(history).toHaveLength(HISTORY_HOURS);
    expect(history[0]!.hour).toBe(currentHour - 23 * HOUR_MS);
    expect(history.at(-1)!.hour).toBe(currentHour);

    const now = history.at(-1)!;
    expect(now.requests).toBe(5);
    // Request errors are the caller's: only the provider error counts against uptime.
    expect(now.uptimePercent).toBe(80);
    expect(now.firstTokenP50Ms).toBeGreaterThan(150);
    expect(now.firstTokenP50Ms).toBeLessThan(250);
    expect(now.throughputP50).toBeGreaterThan(60);

    const earlier = history.at(-4)!;
    expect(earlier).toMatchObject({ requests: 2, uptimePercent: 100 });
    expect(earlier.firstTokenP50Ms).toBeGreaterThan(1_500);

    const quiet = history.at(-2)!;
    expect(quiet).toEqual({
      hour: currentHour - HOUR_MS,
      requests: 0,
      uptimePercent: null,
      firstTokenP50Ms: null,
      throughputP50: null,
    });
    expect(history.reduce((sum, hour) => sum + hour.requests, 0)).toBe(7);
  });

  it("answers every endpoint asked for, one without statistics included", async () => {
    const unused = { channelId, upstreamModel: "never-called" };
    const history = await readEndpointHistory(db, [unused], NOW);
    expect(history.get(endpointHistoryKey(unused))!.every((hour) => hour.requests === 0)).toBe(true);
    expect((await readEndpointHistory(db, [], NOW)).size).toBe(0);
  });
});
