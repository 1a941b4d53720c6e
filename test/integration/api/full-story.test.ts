import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GatewayResponse } from "~/server/gateway";
import { addCredits } from "~/server/services/credits";
import { startApiTestApp, type ApiTestApp } from "./support";

async function readBody(response: GatewayResponse): Promise<string> {
  const { body } = response;
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of body) text += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

describe("sign-up to first call to revocation", () => {
  let app: ApiTestApp;

  beforeAll(async () => {
    app = await startApiTestApp();
  });

  afterAll(async () => {
    await app.close();
  });

  function chat(key: string) {
    return app.container.gateway.handle({
      method: "POST",
      path: "/v1/chat/completions",
      query: new URLSearchParams(),
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: Buffer.from(JSON.stringify({ model: "tollgate/echo", messages: [{ role: "user", content: "hi" }] })),
      signal: new AbortController().signal,
    });
  }

  it("lets a new user call the gateway with a dashboard key, bills the call, and locks the key out once revoked", async () => {
    const { id, email } = await app
      .callerFor(null)
      .account.signUp({ email: "story@example.com", password: "a-story-password" });
    const caller = app.callerFor({ id, email, role: "user" });
    const { plaintext, id: keyId } = await caller.keys.create({ name: "first key" });
    await addCredits(app.container.db, app.container.changes, { userId: id, amountNano: 1_000_000_000n });

    const response = await chat(plaintext);
    const text = await readBody(response);
    expect(response.status, text).toBe(200);
    const completion = JSON.parse(text) as {
      choices: { message: { content: string } }[];
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    expect(completion.choices[0]?.message.content).toContain("You said: hi");
    expect(completion.usage.prompt_tokens).toBeGreaterThan(0);

    // The call is metered: once the usage writer has committed, the balance is lower by the call's cost.
    await app.container.usageWriter.flush();
    const { balanceNano } = await caller.account.balance();
    expect(balanceNano).toBeLessThan(1_000_000_000n);
    expect(balanceNano).toBeGreaterThan(0n);

    await caller.keys.revoke({ id: keyId });
    const afterRevoke = await chat(plaintext);
    const errorText = await readBody(afterRevoke);
    expect(afterRevoke.status).toBe(401);
    expect(JSON.parse(errorText)).toMatchObject({ error: { type: expect.any(String) as unknown } });
  });
});
