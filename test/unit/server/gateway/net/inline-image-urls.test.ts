import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayError } from "~/server/gateway/errors";
import { inlineImageUrls } from "~/server/gateway/net/inline-image-urls";
import { createSafeImageFetcher } from "~/server/gateway/net/safe-image-fetch";
import type { ChatCompletionRequest } from "~/server/gateway/protocol/chat-completion-request";

const GIF = Buffer.from(
  "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b",
  "hex",
);
const JPEG_HEAD = Buffer.from("ffd8ffe000104a46494600", "hex");

let server: ReturnType<typeof createServer>;
let base: string;
const requested: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    requested.push(request.url ?? "");
    if (request.url === "/pixel.gif") response.writeHead(200, { "content-type": "image/gif" }).end(GIF);
    else if (request.url === "/photo.jpg") response.writeHead(200, { "content-type": "image/jpeg" }).end(JPEG_HEAD);
    else if (request.url === "/big.png")
      response.writeHead(200, { "content-type": "image/png" }).end(Buffer.alloc(600));
    else response.writeHead(404, { "content-type": "text/plain" }).end("gone");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

const local = createSafeImageFetcher({ allowPrivateAddresses: true, timeoutMs: 2_000 });
const publicOnly = createSafeImageFetcher({ timeoutMs: 2_000 });

afterAll(async () => {
  await local.close();
  await publicOnly.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

// The /v1 schema only lets https image URLs in; this helper does not care, so plain http serves the tests (and the
// request is built without the schema, which would refuse them).
function request(messages: unknown[]): ChatCompletionRequest {
  return { model: "google/gemini-2.5-flash", messages } as ChatCompletionRequest;
}

const image = (url: string) => ({ type: "image_url" as const, image_url: { url } });

async function gatewayError(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error("expected a GatewayError");
}

describe("inlining image URLs", () => {
  it("leaves a request without image URLs as it is", async () => {
    const body = request([
      { role: "user", content: [{ type: "text", text: "hi" }, image("data:image/png;base64,AAAA")] },
    ]);
    expect(await inlineImageUrls(body, local.fetch, new AbortController().signal)).toBe(body);
  });

  it("downloads each distinct URL once and rewrites every part that uses it into a data URL", async () => {
    const before = requested.length;
    const body = request([
      { role: "system", content: "Describe images." },
      {
        role: "user",
        content: [{ type: "text", text: "Two pictures:" }, image(`${base}/pixel.gif`), image(`${base}/photo.jpg`)],
      },
      { role: "assistant", content: "Seen." },
      { role: "user", content: [image(`${base}/pixel.gif`), image("data:image/png;base64,AAAA")] },
    ]);
    const inlined = await inlineImageUrls(body, local.fetch, new AbortController().signal);
    expect(requested.slice(before).sort()).toEqual(["/photo.jpg", "/pixel.gif"]);
    const gif = `data:image/gif;base64,${GIF.toString("base64")}`;
    expect(inlined.messages).toEqual([
      { role: "system", content: "Describe images." },
      {
        role: "user",
        content: [
          { type: "text", text: "Two pictures:" },
          image(gif),
          image(`data:image/jpeg;base64,${JPEG_HEAD.toString("base64")}`),
        ],
      },
      { role: "assistant", content: "Seen." },
      { role: "user", content: [image(gif), image("data:image/png;base64,AAAA")] },
    ]);
    // The client's request object is not changed.
    expect(body.messages[1]).toMatchObject({
      content: [{ type: "text" }, image(`${base}/pixel.gif`), image(`${base}/photo.jpg`)],
    });
  });

  it("fails with a 400 that names the part and says why", async () => {
    const error = await gatewayError(
      inlineImageUrls(
        request([
          { role: "user", content: [{ type: "text", text: "look" }, image(`${base}/pixel.gif`)] },
          { role: "user", content: [image(`${base}/gone.png`)] },
        ]),
        local.fetch,
        new AbortController().signal,
      ),
    );
    expect(error).toMatchObject({
      status: 400,
      type: "invalid_request_error",
      code: "invalid_image_url",
      param: "messages[1].content[0].image_url.url",
      message: "The image at `messages[1].content[0].image_url.url` could not be used: it answered HTTP 404.",
    });
  });

  it("refuses private addresses under the real policy, saying so", async () => {
    const error = await gatewayError(
      inlineImageUrls(
        request([{ role: "user", content: [image("http://169.254.169.254/latest/meta-data/iam")] }]),
        publicOnly.fetch,
        new AbortController().signal,
      ),
    );
    expect(error.param).toBe("messages[0].content[0].image_url.url");
    expect(error.message).toContain("the address 169.254.169.254 is a link-local address");
  });

  it("caps the bytes of all images of one request together", async () => {
    const error = await gatewayError(
      inlineImageUrls(
        request([{ role: "user", content: [image(`${base}/big.png`), image(`${base}/pixel.gif`)] }]),
        local.fetch,
        new AbortController().signal,
        500,
      ),
    );
    expect(error).toMatchObject({ status: 400, code: "invalid_image_url" });
    expect(error.message).toContain("500-byte limit");
  });
});
