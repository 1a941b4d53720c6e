import type { Gateway, GatewayResponse } from "~/server/gateway";
import { GatewayError } from "~/server/gateway/errors";

function toReadableStream(body: AsyncIterable<string | Uint8Array>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done === true) controller.close();
      else controller.enqueue(typeof next.value === "string" ? encoder.encode(next.value) : next.value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

function toResponse(answer: GatewayResponse): Response {
  const { body } = answer;
  const payload = typeof body === "string" || body instanceof Uint8Array ? body : toReadableStream(body);
  return new Response(payload as BodyInit, { status: answer.status, headers: answer.headers });
}

/** Serves a /v1 request arriving as a Web Request (Next route handlers, `next dev`) from the same gateway core. */
export async function handleWebRequest(gateway: Gateway, request: Request, maxBodyBytes: number): Promise<Response> {
  const url = new URL(request.url);
  const declared = Number(request.headers.get("content-length") ?? "0");
  const body = new Uint8Array(await request.arrayBuffer());
  if (declared > maxBodyBytes || body.byteLength > maxBodyBytes) {
    return toResponse(
      new GatewayError(
        413,
        "invalid_request_error",
        "payload_too_large",
        `The request body is larger than the ${maxBodyBytes}-byte limit.`,
      ).toResponse(),
    );
  }
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const answer = await gateway.handle({
    method: request.method,
    path: url.pathname,
    query: url.searchParams,
    headers,
    body,
    signal: request.signal,
  });
  return toResponse(answer);
}
