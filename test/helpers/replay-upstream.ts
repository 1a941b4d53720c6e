import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { fixture } from "./fixtures";

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: unknown;
}

export interface ReplayUpstream {
  baseUrl: string;
  /** Every request received, in order. */
  received: ReceivedRequest[];
  /** Chooses the fixture (`<provider>/<name>`) that answers each request. */
  respondWith(choose: (request: ReceivedRequest) => string): void;
  close(): Promise<void>;
}

/**
 * A local upstream that answers with recorded provider traffic: JSON bodies as recorded, SSE bodies as sent on the
 * wire, written in a few pieces cut at arbitrary byte offsets so the gateway's SSE parsing is exercised.
 */
export async function startReplayUpstream(): Promise<ReplayUpstream> {
  const received: ReceivedRequest[] = [];
  let choose: (request: ReceivedRequest) => string = () => "openai/text";
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      const text = Buffer.concat(parts).toString("utf8");
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Recorded as text.
      }
      const entry: ReceivedRequest = {
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        body,
      };
      received.push(entry);
      const recorded = fixture(choose(entry));
      response.writeHead(recorded.status, { "content-type": recorded.content_type });
      if (recorded.kind === "json") {
        response.end(recorded.body);
        return;
      }
      const bytes = Buffer.from(recorded.body, "utf8");
      const cuts = [Math.floor(bytes.length / 3) + 1, Math.floor((2 * bytes.length) / 3) + 7];
      response.write(bytes.subarray(0, cuts[0]));
      setImmediate(() => {
        response.write(bytes.subarray(cuts[0], cuts[1]));
        setImmediate(() => response.end(bytes.subarray(cuts[1])));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    received,
    respondWith(next) {
      choose = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
