import { TEST_ACTOR } from "../../helpers/audit";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { addChannel } from "~/server/services/channels";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { expectLedgerConsistent, generationsOf, ledgerOf } from "../../helpers/ledger-assertions";

let harness: GatewayHarness;
let silent: Server;

beforeAll(async () => {
  harness = await startGatewayHarness({ env: { UPSTREAM_TIMEOUT_MS: "300" } });
  // An upstream that accepts the request and never answers.
  silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const { port } = silent.address() as AddressInfo;
  await addChannel(
    harness.container.db,
    harness.container.secretBox,
    harness.container.changes,
    {
      kind: "openai-compatible",
      name: "silent",
      baseUrl: `http://127.0.0.1:${port}/v1`,
      apiKey: "sk-upstream-secret",
      models: [{ modelId: "openai/gpt-4o", upstreamModel: "gpt-4o" }],
    },
    TEST_ACTOR,
  );
});

afterAll(async () => {
  silent?.closeAllConnections();
  await new Promise((resolve) => silent?.close(resolve));
  await harness?.stop();
});

it("answers 408 when the upstream does not answer in time, and bills nothing", async () => {
  const { userId, apiKey } = await harness.createFundedUser("1");
  const error = await new OpenAI({ baseURL: harness.baseUrl, apiKey, maxRetries: 0 }).chat.completions
    .create({ model: "openai/gpt-4o", messages: [{ role: "user", content: "hi" }] })
    .catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(OpenAI.APIError);
  expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(408);
  expect((error as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
    type: "timeout_error",
    code: "upstream_timeout",
    metadata: { error_type: "timeout" },
  });

  await harness.container.usageWriter.flush();
  const [generation] = await generationsOf(harness.container.db, userId);
  expect(generation).toMatchObject({ httpStatus: 408, errorType: "upstream_timeout", costNano: 0n });
  expect(await ledgerOf(harness.container.db, userId)).toHaveLength(1); // the credit only
  await expectLedgerConsistent(harness.container.db, userId);
});
