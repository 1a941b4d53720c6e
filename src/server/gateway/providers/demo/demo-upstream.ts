import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { countTokens } from "gpt-tokenizer";
import type { Clock } from "../../clock";
import type { UpstreamResponse, UpstreamTransport } from "../types";

/** Base URL of the built-in demo channel; the registry routes it to this in-process upstream instead of the network. */
export const DEMO_BASE_URL = "demo://tollgate";

interface DemoMessage {
  role?: unknown;
  content?: unknown;
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        typeof part === "object" && part !== null && "text" in part && typeof part.text === "string" ? part.text : "",
      )
      .join("");
  }
  return "";
}

/** OpenAI's published accounting for chat prompts: 3 tokens per message plus 3 to prime the reply. */
function countPromptTokens(messages: DemoMessage[]): number {
  return messages.reduce((sum, message) => sum + 3 + countTokens(textOf(message.content)), 3);
}

export function demoAnswer(messages: DemoMessage[]): string {
  const lastUser = [...messages].reverse().find((message) => message.role === "user");
  const said = textOf(lastUser?.content).trim();
  return said === ""
    ? "Hello from Tollgate's offline demo model. Send a user message and I will echo it back."
    : `Hello from Tollgate's offline demo model. You said: ${said}`;
}

/** The events one by one, `delayMs` apart; the pause ends early (and the stream with it) when the client goes away. */
async function* paced(events: string[], delayMs: number, signal: AbortSignal): AsyncGenerator<Buffer> {
  for (const [index, event] of events.entries()) {
    if (index > 0 && delayMs > 0) await sleep(delayMs, undefined, { signal });
    yield Buffer.from(event);
  }
}

function respond(status: number, contentType: string, text: string): UpstreamResponse {
  return {
    status,
    headers: { "content-type": contentType },
    body: Readable.from([Buffer.from(text)]),
    text: () => Promise.resolve(text),
  };
}

function json(status: number, value: unknown): UpstreamResponse {
  return respond(status, "application/json", JSON.stringify(value));
}

/**
 * An OpenAI-compatible upstream that runs in-process and needs no network: deterministic answers (an echo of the
 * last user message), real token counts, streaming in word-sized chunks. It is priced like any model, so a
 * newcomer's first call shows metering and billing working end to end.
 */
export function createDemoUpstream(clock: Clock, options: { streamDelayMs?: number } = {}): UpstreamTransport {
  const streamDelayMs = options.streamDelayMs ?? 0;
  return (request, signal) => {
    let body: { model?: unknown; messages?: unknown; stream?: unknown; stream_options?: { include_usage?: unknown } };
    try {
      body = JSON.parse(request.body ?? "{}") as typeof body;
    } catch {
      return Promise.resolve(
        json(400, { error: { message: "Invalid JSON", type: "invalid_request_error", code: null, param: null } }),
      );
    }
    const messages = Array.isArray(body.messages) ? (body.messages as DemoMessage[]) : [];
    const model = typeof body.model === "string" ? body.model : "echo";
    const answer = demoAnswer(messages);
    const promptTokens = countPromptTokens(messages);
    const completionTokens = countTokens(answer);
    const usage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    };
    const created = Math.floor(clock() / 1000);
    const id = `chatcmpl-demo-${created}`;

    if (body.stream !== true) {
      return Promise.resolve(
        json(200, {
          id,
          object: "chat.completion",
          created,
          model,
          choices: [
            {
              index: 0,
              message: { role: "assistant", content: answer, refusal: null },
              finish_reason: "stop",
              logprobs: null,
            },
          ],
          usage,
        }),
      );
    }

    const includeUsage = body.stream_options?.include_usage === true;
    const base = { id, object: "chat.completion.chunk", created, model };
    const pieces = answer.match(/\S+\s*/g) ?? [answer];
    const events: unknown[] = [
      {
        ...base,
        choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null, logprobs: null }],
      },
      ...pieces.map((piece) => ({
        ...base,
        choices: [{ index: 0, delta: { content: piece }, finish_reason: null, logprobs: null }],
      })),
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop", logprobs: null }] },
      ...(includeUsage ? [{ ...base, choices: [], usage }] : []),
    ];
    const sse = [...events.map((event) => `data: ${JSON.stringify(event)}\n\n`), "data: [DONE]\n\n"];
    return Promise.resolve({
      status: 200,
      headers: { "content-type": "text/event-stream" },
      body: Readable.from(paced(sse, streamDelayMs, signal)),
      text: () => Promise.resolve(sse.join("")),
    });
  };
}
