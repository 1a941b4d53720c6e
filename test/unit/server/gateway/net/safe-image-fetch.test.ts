import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockedAddressReason } from "~/server/gateway/net/ip-address-policy";
import {
  createSafeImageFetcher,
  ImageFetchError,
  type ImageFetcher,
  type SafeImageFetcher,
} from "~/server/gateway/net/safe-image-fetch";

/** The first bytes of a PNG file, enough to stand for an image. */
const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452", "hex");

interface Seen {
  path: string;
  host: string | undefined;
}

let server: ReturnType<typeof createServer>;
let port: number;
const seen: Seen[] = [];

function handle(request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? "/", "http://local");
  seen.push({ path: url.pathname, host: request.headers.host });
  const redirect = (location: string) => response.writeHead(302, { location }).end();
  switch (url.pathname) {
    case "/image.png":
      response.writeHead(200, { "content-type": "image/png; charset=binary" }).end(PNG);
      return;
    case "/page.html":
      response.writeHead(200, { "content-type": "text/html" }).end("<html></html>");
      return;
    case "/big-declared.png":
      response.writeHead(200, { "content-type": "image/png", "content-length": "1048576" });
      response.end(Buffer.alloc(1_048_576));
      return;
    case "/big-streamed.png":
      // No content-length: the limit must hold while reading.
      response.writeHead(200, { "content-type": "image/png" });
      for (let index = 0; index < 64; index += 1) response.write(Buffer.alloc(16_384));
      response.end();
      return;
    case "/missing.png":
      response.writeHead(404, { "content-type": "text/plain" }).end("nope");
      return;
    case "/hang.png":
      // Never answers; the fetcher's deadline must end the wait.
      return;
    case "/to-image":
      redirect("/image.png");
      return;
    case "/to-metadata":
      redirect("http://169.254.169.254/latest/meta-data/");
      return;
    case "/to-internal-name":
      redirect(`http://internal.test:${port}/image.png`);
      return;
    case "/to-ipv6-loopback":
      redirect(`http://[::1]:${port}/image.png`);
      return;
    case "/loop":
      redirect("/loop");
      return;
    case "/to-ftp":
      redirect("ftp://example.com/image.png");
      return;
    default:
      response.writeHead(404).end();
  }
}

beforeAll(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const fetchers: SafeImageFetcher[] = [];
function fetcher(options: Parameters<typeof createSafeImageFetcher>[0]): ImageFetcher {
  const created = createSafeImageFetcher(options);
  fetchers.push(created);
  return created.fetch;
}
afterAll(async () => {
  await Promise.all(fetchers.map((created) => created.close()));
});

async function refusal(promise: Promise<unknown>): Promise<ImageFetchError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ImageFetchError) return error;
    throw error;
  }
  throw new Error("expected the fetch to be refused");
}

/** The real policy, except for the one loopback address the test server listens on. */
const allowTestServer = (address: string) => (address === "127.0.0.1" ? null : blockedAddressReason(address));

/** A resolver for names that exist only in these tests. */
const testNames: Record<string, string[]> = {
  "internal.test": ["10.1.2.3"],
  "images.test": ["127.0.0.1"],
  "mixed.test": ["93.184.215.14", "192.168.0.7"],
};
const resolve = (hostname: string) =>
  Promise.resolve((testNames[hostname] ?? []).map((address) => ({ address, family: address.includes(":") ? 6 : 4 })));

describe("the image fetcher with private addresses allowed (local test servers)", () => {
  const fetchImage = fetcher({ allowPrivateAddresses: true, maxBytes: 100_000, timeoutMs: 2_000 });

  it("downloads an image and reports its media type without parameters", async () => {
    const image = await fetchImage(`http://127.0.0.1:${port}/image.png`);
    expect(image).toEqual({ mimeType: "image/png", data: PNG });
  });

  it("follows a redirect", async () => {
    expect((await fetchImage(`http://127.0.0.1:${port}/to-image`)).data).toEqual(PNG);
  });

  it("refuses what is not an image, a failed status, and anything over the size limit", async () => {
    await expect(refusal(fetchImage(`http://127.0.0.1:${port}/page.html`))).resolves.toMatchObject({
      reason: "not_an_image",
      message: "it is not an image (content type text/html)",
    });
    await expect(refusal(fetchImage(`http://127.0.0.1:${port}/missing.png`))).resolves.toMatchObject({
      reason: "http_status",
      message: "it answered HTTP 404",
    });
    await expect(refusal(fetchImage(`http://127.0.0.1:${port}/big-declared.png`))).resolves.toMatchObject({
      reason: "too_large",
      message: "it is larger than the 100000-byte limit",
    });
    await expect(refusal(fetchImage(`http://127.0.0.1:${port}/big-streamed.png`))).resolves.toMatchObject({
      reason: "too_large",
    });
  });

  it("stops after three redirects, and never leaves http(s)", async () => {
    await expect(refusal(fetchImage(`http://127.0.0.1:${port}/loop`))).resolves.toMatchObject({
      reason: "too_many_redirects",
      message: "it redirects more than 3 times",
    });
    await expect(refusal(fetchImage(`http://127.0.0.1:${port}/to-ftp`))).resolves.toMatchObject({
      reason: "unsupported_url",
    });
    for (const url of ["ftp://example.com/a.png", "file:///etc/passwd", "gopher://127.0.0.1/", "not a url"]) {
      await expect(refusal(fetchImage(url))).resolves.toMatchObject({ reason: "unsupported_url" });
    }
  });

  it("gives up on a server that does not answer within the time limit", async () => {
    const impatient = fetcher({ allowPrivateAddresses: true, timeoutMs: 150 });
    await expect(refusal(impatient(`http://127.0.0.1:${port}/hang.png`))).resolves.toMatchObject({
      reason: "timeout",
      message: "it did not download within 150 ms",
    });
  });

  it("stops when the client goes away, with the client's reason", async () => {
    const controller = new AbortController();
    const pending = fetchImage(`http://127.0.0.1:${port}/hang.png`, controller.signal);
    controller.abort(new Error("client left"));
    await expect(pending).rejects.toThrow("client left");
  });
});

describe("the image fetcher's real address policy", () => {
  const fetchImage = fetcher({ timeoutMs: 2_000 });

  it.each([
    ["127.0.0.1", () => `http://127.0.0.1:${port}/image.png`, "the address 127.0.0.1 is a loopback address"],
    ["::1", () => `http://[::1]:${port}/image.png`, "the address ::1 is a loopback address"],
    ["10.x", () => "http://10.0.0.1/image.png", "the address 10.0.0.1 is a private address"],
    [
      "metadata",
      () => "http://169.254.169.254/latest/meta-data/",
      "the address 169.254.169.254 is a link-local address",
    ],
    [
      "IPv4-mapped loopback",
      () => `http://[::ffff:127.0.0.1]:${port}/image.png`,
      "the address ::ffff:7f00:1 is a loopback address (127.0.0.1) written as IPv6",
    ],
    ["decimal loopback", () => `http://2130706433:${port}/image.png`, "the address 127.0.0.1 is a loopback address"],
    [
      "localhost",
      () => `http://localhost:${port}/image.png`,
      // Whichever loopback address the system resolver lists first.
      expect.stringMatching(/^its host localhost resolves to a loopback address$/) as unknown,
    ],
  ])("refuses %s, and never connects", async (_name, url, message) => {
    const before = seen.length;
    await expect(refusal(fetchImage(url()))).resolves.toMatchObject({ reason: "blocked_address", message });
    expect(seen.length).toBe(before);
  });

  it("refuses a name when any of its addresses is private", async () => {
    const withNames = fetcher({ resolve, timeoutMs: 2_000 });
    await expect(refusal(withNames("http://mixed.test/image.png"))).resolves.toMatchObject({
      reason: "blocked_address",
      message: "its host mixed.test resolves to a private address",
    });
  });

  describe("behind an allowed server", () => {
    const throughTestServer = fetcher({ addressPolicy: allowTestServer, resolve, timeoutMs: 2_000 });

    it("connects to exactly the address it vetted (the name is never resolved again)", async () => {
      const image = await throughTestServer(`http://images.test:${port}/image.png`);
      expect(image.data).toEqual(PNG);
      expect(seen.at(-1)).toEqual({ path: "/image.png", host: `images.test:${port}` });
    });

    it.each([
      [
        "/to-metadata",
        "it redirects to http://169.254.169.254/latest/meta-data/, and the address 169.254.169.254 is a link-local address",
      ],
      [
        "/to-internal-name",
        "it redirects to http://internal.test:PORT/image.png, and its host internal.test resolves to a private address",
      ],
      ["/to-ipv6-loopback", "it redirects to http://[::1]:PORT/image.png, and the address ::1 is a loopback address"],
    ])("refuses a redirect %s to a private address", async (path, message) => {
      const error = await refusal(throughTestServer(`http://127.0.0.1:${port}${path}`));
      expect(error).toMatchObject({ reason: "blocked_address", message: message.replace("PORT", String(port)) });
      // The allowed server was asked; the private target never was.
      expect(seen.at(-1)?.path).toBe(path);
    });
  });
});
