import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { ReceivedRequest } from "./replay-upstream";

export interface StubAnswer {
  status: number;
  body: string;
  contentType?: string;
}

export interface StubUpstream {
  /** `http://127.0.0.1:<port>/v1` */
  baseUrl: string;
  /** Every request received, in order, body parsed as JSON when it is JSON. */
  received: ReceivedRequest[];
  /** What every following request is answered with. */
  answer(next: StubAnswer): void;
  close(): Promise<void>;
}

/** A local upstream that answers every request with one fixed status and body (a recorded one, or an error). */
export async function startStubUpstream(first: StubAnswer): Promise<StubUpstream> {
  const received: ReceivedRequest[] = [];
  let current = first;
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      const text = Buffer.concat(parts).toString("utf8");
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Kept as text.
      }
      received.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers, body });
      response.writeHead(current.status, { "content-type": current.contentType ?? "application/json" });
      response.end(current.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    received,
    answer(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A base URL on which nothing listens: a port that was just bound, then released. */
export async function refusedBaseUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}

/** OpenAI's answer to a wrong key (its real shape; the message quotes the key it was given). */
export function openAIInvalidKeyBody(quotedKey: string): string {
  return JSON.stringify({
    error: {
      message: `Incorrect API key provided: ${quotedKey}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      type: "invalid_request_error",
      param: null,
      code: "invalid_api_key",
    },
  });
}
