import type { Gateway, GatewayResponse } from "~/server/gateway";

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

/** Reads the body up to `limitBytes`; null when it is larger (the rest is not read). */
async function readLimitedBody(request: Request, limitBytes: number): Promise<Uint8Array | null> {
  if (Number(request.headers.get("content-length") ?? "0") > limitBytes) return null;
  if (request.body === null) return new Uint8Array();
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limitBytes) {
      await reader.cancel();
      return null;
    }
    parts.push(value);
  }
  return Buffer.concat(parts);
}

/** Serves a /v1 request arriving as a Web Request (Next route handlers, `next dev`) from the same gateway core. */
export async function handleWebRequest(
  gateway: Pick<Gateway, "handle">,
  request: Request,
  maxBodyBytes: number,
): Promise<Response> {
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return forwardWebRequest(gateway, request, maxBodyBytes, { path: new URL(request.url).pathname, headers });
}

/**
 * Serves a Web Request's body as a gateway request of the server's making: its own path and headers (none of the
 * browser's, its cookies included). The client going away still aborts the call.
 */
export async function forwardWebRequest(
  gateway: Pick<Gateway, "handle">,
  request: Request,
  maxBodyBytes: number,
  target: { path: string; headers: Record<string, string> },
): Promise<Response> {
  const body = await readLimitedBody(request, maxBodyBytes);
  const answer = await gateway.handle({
    method: request.method,
    path: target.path,
    query: new URL(request.url).searchParams,
    headers: target.headers,
    body: body ?? new Uint8Array(),
    ...(body === null ? { bodyOverLimit: maxBodyBytes } : {}),
    signal: request.signal,
  });
  return toResponse(answer);
}
