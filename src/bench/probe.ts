/**
 * One request of each kind before any load, checked in full: a wrong answer under load would only show up as
 * "bad bodies", and a bench that measures errors fast is worse than no bench.
 */
import { createParser } from "eventsource-parser";
import { request } from "undici";
import { chatRequestBody, MOCK_COMPLETION_CONTENT, streamedContent } from "./mock-bodies";
import { sleep } from "./process-stats";

export interface ProbeTarget {
  name: string;
  url: string;
  headers: Record<string, string>;
}

interface StreamChunk {
  choices?: { delta?: { content?: string | null } }[];
  usage?: unknown;
  error?: unknown;
}

async function post(target: ProbeTarget, body: string): Promise<{ status: number; text: string }> {
  const response = await request(target.url, {
    method: "POST",
    headers: target.headers,
    body,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  return { status: response.statusCode, text: await response.body.text() };
}

function checkCompletion(target: ProbeTarget, text: string): void {
  const answer = JSON.parse(text) as { choices?: { message?: { content?: string } }[]; usage?: unknown };
  const content = answer.choices?.[0]?.message?.content;
  if (content !== MOCK_COMPLETION_CONTENT)
    throw new Error(`${target.name}: unexpected content ${JSON.stringify(content)}`);
  if (answer.usage === undefined || answer.usage === null) throw new Error(`${target.name}: the answer has no usage`);
}

function checkStream(target: ProbeTarget, text: string, chunks: number): void {
  let content = "";
  let done = false;
  let usage = false;
  const parser = createParser({
    onEvent(event) {
      if (event.data === "[DONE]") {
        done = true;
        return;
      }
      const chunk = JSON.parse(event.data) as StreamChunk;
      if (chunk.error !== undefined) throw new Error(`${target.name}: the stream carried an error: ${event.data}`);
      if (chunk.usage !== undefined && chunk.usage !== null) usage = true;
      content += chunk.choices?.[0]?.delta?.content ?? "";
    },
  });
  parser.feed(text);
  const expected = streamedContent(chunks);
  if (content !== expected)
    throw new Error(`${target.name}: streamed ${JSON.stringify(content)}, expected ${JSON.stringify(expected)}`);
  if (!done) throw new Error(`${target.name}: the stream did not end with [DONE]`);
  if (!usage) throw new Error(`${target.name}: no chunk carried usage`);
}

/**
 * Sends one non-streamed and one streamed request and checks both answers. Retries for a few seconds while the
 * target answers 404 for the model: a new channel reaches the gateway's in-memory catalog asynchronously.
 */
export async function probe(target: ProbeTarget, model: string, chunks: number): Promise<void> {
  for (const stream of [false, true]) {
    const body = chatRequestBody(model, stream);
    let answer = await post(target, body);
    for (let attempt = 0; answer.status === 404 && attempt < 50; attempt++) {
      await sleep(100);
      answer = await post(target, body);
    }
    if (answer.status !== 200) {
      throw new Error(
        `${target.name} answered HTTP ${answer.status} to a ${stream ? "streamed" : "plain"} request: ${answer.text.slice(0, 500)}`,
      );
    }
    if (stream) checkStream(target, answer.text, chunks);
    else checkCompletion(target, answer.text);
  }
}
