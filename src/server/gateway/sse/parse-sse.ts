import { createParser } from "eventsource-parser";
import type { SseEvent } from "../providers/types";

/**
 * Turns an upstream byte stream into SSE events with a real parser (comments and `retry:` lines are dropped).
 * Events come in batches, one per read that completed at least one event, so a caller can answer a whole read with
 * one write: under load several events arrive per read, and one socket write per event is what costs.
 */
export async function* parseSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent[]> {
  const decoder = new TextDecoder();
  let pending: SseEvent[] = [];
  const parser = createParser({
    onEvent: (message) => {
      pending.push({ event: message.event, data: message.data });
    },
  });
  for await (const bytes of body) {
    parser.feed(decoder.decode(bytes, { stream: true }));
    if (pending.length > 0) {
      yield pending;
      pending = [];
    }
  }
  parser.feed(decoder.decode());
  // A final event without its blank line still counts: some upstreams close right after the last data line.
  parser.feed("\n\n");
  if (pending.length > 0) yield pending;
}
