import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as getPublicApi } from "~/app/api/v1/[...path]/route";
import { POST, GET } from "~/app/v1/[...path]/route";
import { setContainer } from "~/server/container";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { assertMatchesOpenAISpec } from "../../helpers/openai-schema";

// The Next route handler that serves /v1 under `next dev` and on hosts without the production entry: the same core
// behind a Web Request/Response adapter, and the same container.
let harness: GatewayHarness;
let apiKey: string;

beforeAll(async () => {
  harness = await startGatewayHarness();
  setContainer(Promise.resolve(harness.container));
  ({ apiKey } = await harness.createFundedUser("1"));
});

afterAll(async () => {
  await harness?.stop();
});

function request(path: string, init: RequestInit = {}): Request {
  return new Request(`http://localhost${path}`, {
    ...init,
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", ...init.headers },
  });
}

describe("src/app/v1/[...path]/route.ts", () => {
  it("answers chat completions like the production entry", async () => {
    const response = await POST(
      request("/v1/chat/completions", {
        method: "POST",
        body: JSON.stringify({ model: "tollgate/echo", messages: [{ role: "user", content: "via next" }] }),
      }),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    assertMatchesOpenAISpec("response", body);
    expect(body.choices[0]?.message.content).toContain("via next");
    expect(response.headers.get("x-generation-id")).toMatch(/^gen-/);
  });

  it("streams server-sent events", async () => {
    const response = await POST(
      request("/v1/chat/completions", {
        method: "POST",
        body: JSON.stringify({ model: "tollgate/echo", stream: true, messages: [{ role: "user", content: "stream" }] }),
      }),
    );
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const text = await response.text();
    const events = text.split("\n\n").filter(Boolean);
    expect(events.at(-1)).toBe("data: [DONE]");
    for (const event of events.slice(0, -1)) assertMatchesOpenAISpec("chunk", JSON.parse(event.slice("data: ".length)));
  });

  it("lists models and refuses a missing key", async () => {
    expect((await GET(request("/v1/models"))).status).toBe(200);
    const refused = await GET(new Request("http://localhost/v1/models"));
    expect(refused.status).toBe(401);
    assertMatchesOpenAISpec("error", await refused.json());
  });

  it("refuses an oversized body with 413", async () => {
    const big = "x".repeat(harness.container.env.MAX_REQUEST_BODY_BYTES + 1);
    const response = await POST(request("/v1/chat/completions", { method: "POST", body: big }));
    expect(response.status).toBe(413);
  });
});

describe("src/app/api/v1/[...path]/route.ts", () => {
  it("serves the public catalog without a key", async () => {
    const response = await getPublicApi(new Request("http://localhost/api/v1/models"));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { id: string }[] };
    expect(body.data.map((model) => model.id)).toContain("tollgate/echo");
  });
});
