import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface HeldUpstream {
  /** `http://127.0.0.1:<port>/v1` */
  baseUrl: string;
  /** Requests received so far. */
  arrivals(): number;
  /** Answers every request held so far, and every later one at once. */
  release(): void;
  /** Holds every later request again, until the next release(). */
  hold(): void;
  close(): Promise<void>;
}

/** The usage every answer reports. */
export const HELD_USAGE = { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 };

/**
 * An OpenAI-compatible upstream that holds every request until told to answer, so a test can have many calls in
 * flight at once and check what was admitted before any of them settles. Answers a fixed completion (or stream).
 */
export async function startHeldUpstream(): Promise<HeldUpstream> {
  const waiting: (() => void)[] = [];
  let released = false;
  let arrivals = 0;
  const answer = (response: ServerResponse, stream: boolean) => {
    const base = { id: "chatcmpl-held", created: 1_700_000_000, model: "gpt-4.1-nano" };
    if (!stream) {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          ...base,
          object: "chat.completion",
          choices: [
            { index: 0, message: { role: "assistant", content: "Held, then answered." }, finish_reason: "stop" },
          ],
          usage: HELD_USAGE,
        }),
      );
      return;
    }
    response.writeHead(200, { "content-type": "text/event-stream" });
    const chunk = (choices: unknown[], usage: unknown = null) =>
      `data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", choices, usage })}\n\n`;
    response.end(
      chunk([{ index: 0, delta: { role: "assistant", content: "Held, then answered." }, finish_reason: null }]) +
        chunk([{ index: 0, delta: {}, finish_reason: "stop" }]) +
        chunk([], HELD_USAGE) +
        "data: [DONE]\n\n",
    );
  };
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      arrivals += 1;
      const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as { stream?: boolean };
      const respond = () => answer(response, body.stream === true);
      if (released) respond();
      else waiting.push(respond);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    arrivals: () => arrivals,
    release() {
      released = true;
      for (const respond of waiting.splice(0)) respond();
    },
    hold() {
      released = false;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
