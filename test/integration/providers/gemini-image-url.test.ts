import { TEST_ACTOR } from "../../helpers/audit";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addChannel } from "~/server/services/channels";
import { fixture } from "../../helpers/fixtures";
import { startGatewayHarness, type GatewayHarness } from "../../helpers/gateway-harness";
import { generationsOf } from "../../helpers/ledger-assertions";
import { assertMatchesOpenAISpec } from "../../helpers/openai-schema";
import { startReplayUpstream, type ReplayUpstream } from "../../helpers/replay-upstream";

/*
 * An image URL in a request to a Gemini model: the gateway downloads it and sends it inline. The image is served by a
 * local https server (the /v1 schema accepts https image URLs only), so this gateway runs with
 * IMAGE_FETCH_ALLOW_PRIVATE_ADDRESSES=true; gemini.test.ts checks that the default policy refuses such addresses.
 */

// A self-signed certificate for 127.0.0.1 and localhost (valid 2020–2119), trusted by this test process only.
const TEST_CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIIBiTCCAS+gAwIBAgIBATAKBggqhkjOPQQDAjAlMSMwIQYDVQQDDBpUb2xsZ2F0
ZSB0ZXN0IGltYWdlIHNlcnZlcjAgFw0yMDAxMDEwMDAwMDBaGA8yMTE5MTIzMTIz
NTk1OVowJTEjMCEGA1UEAwwaVG9sbGdhdGUgdGVzdCBpbWFnZSBzZXJ2ZXIwWTAT
BgcqhkjOPQIBBggqhkjOPQMBBwNCAAQ5FBqhKNztIRNhOltlOc0PqiARe2XmaWqo
xeRK6JJ3o9GInCQlWlYFJi0RiOjLJBzYWZSVH3b/bzRNeZ3PmqmTo04wTDAPBgNV
HRMBAf8EBTADAQH/MBoGA1UdEQQTMBGHBH8AAAGCCWxvY2FsaG9zdDAdBgNVHQ4E
FgQUmv/S+6VDM5qV2Fby2D2HkawF0zcwCgYIKoZIzj0EAwIDSAAwRQIhAIvgyNCe
OdRfVDtC+u9sSySQnNZ3/Isp/gvRir9oXzDhAiAqG3jfcs2YjfSdlDy5zI7gGbTx
LSW4f5hE6Uy0RuErxQ==
-----END CERTIFICATE-----
`;
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWbWHLsWPanbTPnRC
XqX/dd5F/fs6Ek+jf1XfMvmhpZihRANCAAQ5FBqhKNztIRNhOltlOc0PqiARe2Xm
aWqoxeRK6JJ3o9GInCQlWlYFJi0RiOjLJBzYWZSVH3b/bzRNeZ3PmqmT
-----END PRIVATE KEY-----
`;

const FLASH = "google/gemini-2.5-flash";
const recordedRequest = fixture("gemini/image-inline-data").requestBody as {
  contents: { parts: { inlineData?: { data: string; mimeType: string } }[] }[];
};
const recordedInline = recordedRequest.contents[0]?.parts[1]?.inlineData;
// The potato from the recording (pydantic-ai downloaded it from a URL and inlined it, as the gateway must).
const potato = Buffer.from(recordedInline?.data ?? "", "base64url");

let harness: GatewayHarness;
let upstream: ReplayUpstream;
let images: ReturnType<typeof createServer>;
let imagesBase: string;
const imageRequests: string[] = [];

beforeAll(async () => {
  tls.setDefaultCACertificates([...tls.getCACertificates("default"), TEST_CERTIFICATE]);
  images = createServer({ cert: TEST_CERTIFICATE, key: TEST_KEY }, (request, response) => {
    imageRequests.push(request.url ?? "");
    if (request.url === "/potato.jpg") response.writeHead(200, { "content-type": "image/jpeg" }).end(potato);
    else if (request.url === "/moved.jpg") response.writeHead(301, { location: "/potato.jpg" }).end();
    else if (request.url === "/page") response.writeHead(200, { "content-type": "text/html" }).end("<html></html>");
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => images.listen(0, "127.0.0.1", resolve));
  imagesBase = `https://127.0.0.1:${(images.address() as AddressInfo).port}`;

  harness = await startGatewayHarness({ env: { IMAGE_FETCH_ALLOW_PRIVATE_ADDRESSES: "true" } });
  upstream = await startReplayUpstream();
  await addChannel(
    harness.container.db,
    harness.container.secretBox,
    harness.container.changes,
    {
      kind: "gemini",
      name: "gemini-replay",
      baseUrl: upstream.baseUrl,
      apiKey: "gm-test",
      models: [{ modelId: FLASH, upstreamModel: "gemini-2.5-flash" }],
    },
    TEST_ACTOR,
  );
});

afterAll(async () => {
  await upstream?.close();
  await harness?.stop();
  images?.closeAllConnections();
  await new Promise<void>((resolve) => (images ? images.close(() => resolve()) : resolve()));
});

function askAbout(url: string) {
  return [
    { role: "system" as const, content: "You are a helpful chatbot." },
    {
      role: "user" as const,
      content: [
        { type: "text" as const, text: "What is this vegetable?" },
        { type: "image_url" as const, image_url: { url } },
      ],
    },
  ];
}

describe("an image URL to a Gemini model", () => {
  it.each(["/potato.jpg", "/moved.jpg"])("%s is downloaded and sent inline, as in the recording", async (path) => {
    upstream.respondWith(() => "gemini/image-inline-data");
    const user = await harness.createFundedUser("5");
    const client = new OpenAI({ baseURL: harness.baseUrl, apiKey: user.apiKey, maxRetries: 0 });
    const completion = await client.chat.completions.create({
      model: FLASH,
      messages: askAbout(`${imagesBase}${path}`),
    });
    assertMatchesOpenAISpec("response", completion);
    expect(completion.choices[0]?.message.content).toBe("That is a potato.");
    expect(imageRequests.at(-1)).toBe("/potato.jpg");

    const sent = upstream.received.at(-1)?.body as typeof recordedRequest & Record<string, unknown>;
    expect(sent.contents).toEqual([
      {
        role: "user",
        parts: [
          { text: "What is this vegetable?" },
          // The recording's bytes, in standard base64 (the recording used the url-safe alphabet).
          { inlineData: { mimeType: "image/jpeg", data: potato.toString("base64") } },
        ],
      },
    ]);
    expect(recordedInline?.mimeType).toBe("image/jpeg");
    expect(sent.systemInstruction).toEqual({ parts: [{ text: "You are a helpful chatbot." }] });
  });

  it.each([
    ["/missing.jpg", "it answered HTTP 404"],
    ["/page", "it is not an image (content type text/html)"],
  ])("%s is a 400 that says why, and nothing is sent upstream or billed", async (path, reason) => {
    const user = await harness.createFundedUser("5");
    const before = upstream.received.length;
    const response = await fetch(`${harness.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${user.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: FLASH, messages: askAbout(`${imagesBase}${path}`) }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { message: string; param: string; code: string } };
    assertMatchesOpenAISpec("error", body);
    expect(body.error).toMatchObject({ code: "invalid_image_url", param: "messages[1].content[1].image_url.url" });
    expect(body.error.message).toBe(
      `The image at \`messages[1].content[1].image_url.url\` could not be used: ${reason}.`,
    );
    expect(upstream.received.length).toBe(before);
    await harness.container.usageWriter.flush();
    expect(await generationsOf(harness.container.db, user.userId)).toEqual([]);
  });
});
