import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type FaultScript = (
  request: IncomingMessage,
  response: ServerResponse,
  body: { model?: string; stream?: boolean },
) => void;

export interface FaultRequest {
  /** Settles when the connection the request came on closes (the gateway gave up on it, or the server stopped). */
  connectionClosed: Promise<void>;
}

export interface FaultUpstream {
  /** `http://127.0.0.1:<port>/v1` */
  baseUrl: string;
  /** Every request received, in order. */
  requests: FaultRequest[];
  /** What the next requests get: an answer, a partial one, or nothing at all. */
  script: FaultScript;
  close(): Promise<void>;
}

/** A local upstream on 127.0.0.1 whose every answer (or failure to answer) is scripted by the test. */
export async function startFaultUpstream(script: FaultScript): Promise<FaultUpstream> {
  const server: Server = createServer((request, response) => {
    const connectionClosed = new Promise<void>((resolve) => request.socket.once("close", () => resolve()));
    upstream.requests.push({ connectionClosed });
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      const text = Buffer.concat(parts).toString("utf8");
      upstream.script(request, response, text === "" ? {} : (JSON.parse(text) as { model?: string }));
    });
  });
  const upstream: FaultUpstream = {
    baseUrl: "",
    requests: [],
    script,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  upstream.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return upstream;
}

const BASE = { id: "chatcmpl-fault", created: 1_700_000_000, model: "gpt-4.1-nano" };

/** One OpenAI stream chunk as an SSE event. */
export function sseChunk(choices: unknown[], usage: unknown = null): string {
  return `data: ${JSON.stringify({ ...BASE, object: "chat.completion.chunk", choices, usage })}\n\n`;
}

/** A stream chunk carrying one piece of content. */
export function contentChunk(content: string): string {
  return sseChunk([{ index: 0, delta: { role: "assistant", content }, finish_reason: null }]);
}

/** A whole answer, streamed or not, saying `from <label>`. */
export function answerFrom(label: string, stream: boolean, response: ServerResponse): void {
  const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
  if (!stream) {
    response.writeHead(200, { "content-type": "application/json" });
    response.end(
      JSON.stringify({
        ...BASE,
        object: "chat.completion",
        choices: [{ index: 0, message: { role: "assistant", content: `from ${label}` }, finish_reason: "stop" }],
        usage,
      }),
    );
    return;
  }
  response.writeHead(200, { "content-type": "text/event-stream" });
  response.end(
    contentChunk(`from ${label}`) +
      sseChunk([{ index: 0, delta: {}, finish_reason: "stop" }]) +
      sseChunk([], usage) +
      "data: [DONE]\n\n",
  );
}
