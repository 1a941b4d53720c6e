/**
 * A local OpenAI-compatible upstream for the bench, run as its own process (so it can be pinned to its own core):
 * `node --import tsx src/bench/mock-upstream.ts [--chunks N]`. Prints `mock upstream listening on http://…` once
 * ready. POST /v1/chat/completions answers a fixed completion, or a stream of N content chunks when the body has
 * `"stream": true`. Everything is precomputed: the mock should cost as little CPU as possible.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { completionBody, MOCK_API_KEY, streamEvents } from "./mock-bodies";

const MAX_BODY_BYTES = 1024 * 1024;

function jsonError(response: ServerResponse, status: number, message: string, code: string): void {
  const body = JSON.stringify({ error: { message, type: "invalid_request_error", param: null, code } });
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  response.end(body);
}

async function readBody(request: IncomingMessage): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of request as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > MAX_BODY_BYTES) return null;
    parts.push(part);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

function wantsStream(body: Buffer): boolean | null {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as unknown;
    if (typeof parsed !== "object" || parsed === null) return null;
    return (parsed as { stream?: unknown }).stream === true;
  } catch {
    return null;
  }
}

/** Writes each event separately, yielding to the event loop in between, as a model emitting tokens would. */
function writeStream(response: ServerResponse, events: readonly Buffer[]): void {
  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "x-request-id": "req_bench",
  });
  let index = 0;
  const next = () => {
    if (response.destroyed) return;
    const event = events[index++];
    if (event === undefined) {
      response.end();
      return;
    }
    response.write(event);
    setImmediate(next);
  };
  next();
}

function main(): void {
  const { values } = parseArgs({
    options: { chunks: { type: "string", default: "20" }, port: { type: "string", default: "0" } },
    strict: true,
  });
  const chunks = Number(values.chunks);
  if (!Number.isInteger(chunks) || chunks < 1) throw new Error(`--chunks: expected a positive whole number`);

  const completion = Buffer.from(completionBody());
  const completionHeaders = {
    "content-type": "application/json",
    "content-length": completion.length,
    "openai-processing-ms": "312",
    "x-request-id": "req_bench",
  };
  const events = streamEvents(chunks).map((event) => Buffer.from(event));
  const expectedAuthorization = `Bearer ${MOCK_API_KEY}`;

  const server = createServer((request, response) => {
    if (request.method !== "POST" || request.url !== "/v1/chat/completions") {
      request.resume();
      jsonError(response, 404, `No route ${request.method} ${request.url}`, "unknown_url");
      return;
    }
    if (request.headers.authorization !== expectedAuthorization) {
      request.resume();
      jsonError(response, 401, "Incorrect API key provided.", "invalid_api_key");
      return;
    }
    readBody(request).then(
      (body) => {
        const stream = body === null ? null : wantsStream(body);
        if (stream === null) {
          jsonError(response, 400, "The request body is not a JSON object.", "invalid_json");
        } else if (stream) {
          writeStream(response, events);
        } else {
          response.writeHead(200, completionHeaders);
          response.end(completion);
        }
      },
      () => response.destroy(),
    );
  });
  server.keepAliveTimeout = 65_000;
  server.listen(Number(values.port), "127.0.0.1", () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`mock upstream listening on http://127.0.0.1:${port}\n`);
  });
  const stop = () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main();
