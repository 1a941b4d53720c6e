import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addCredits } from "~/server/services/credits";
import { chatInProcess, readGatewayBody } from "../../helpers/gateway-call";
import { startApiTestApp, type ApiTestApp } from "./support";

describe("sign-up to first call to revocation", () => {
  let app: ApiTestApp;

  beforeAll(async () => {
    app = await startApiTestApp();
  });

  afterAll(async () => {
    await app.close();
  });

  const chat = (key: string) => chatInProcess(app.container.gateway, key);

  it("lets a new user call the gateway with a dashboard key, bills the call, and locks the key out once revoked", async () => {
    const { id, email } = await app
      .callerFor(null)
      .account.signUp({ email: "story@example.com", password: "a-story-password" });
    const caller = app.callerFor({ id, email, role: "user" });
    const { plaintext, id: keyId } = await caller.keys.create({ name: "first key" });
    await addCredits(app.container.db, app.container.changes, { userId: id, amountNano: 1_000_000_000n });

    const response = await chat(plaintext);
    const text = await readGatewayBody(response);
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
    const errorText = await readGatewayBody(afterRevoke);
    expect(afterRevoke.status).toBe(401);
    expect(JSON.parse(errorText)).toMatchObject({ error: { type: expect.any(String) as unknown } });
  });
});
