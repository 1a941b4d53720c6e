import type { IncomingMessage, ServerResponse } from "node:http";
import type { Gateway, GatewayResponse } from "~/server/gateway";

class BodyTooLargeError extends Error {}

const EMPTY_BODY = Buffer.alloc(0);

function readRequestBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"] ?? "0");
  if (declared > limitBytes) return Promise.reject(new BodyTooLargeError());
  // Plain events rather than an async iterator: this runs once per /v1 call.
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    request.on("data", (part: Buffer) => {
      size += part.length;
      if (size > limitBytes) {
        request.removeAllListeners("data");
        reject(new BodyTooLargeError());
        return;
      }
      parts.push(part);
    });
    request.once("end", () => resolve(parts.length === 1 ? parts[0]! : Buffer.concat(parts)));
    request.once("error", reject);
  });
}

function flatHeaders(request: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

async function writeResponse(response: ServerResponse, answer: GatewayResponse, abort: AbortController): Promise<void> {
  const { body } = answer;
  try {
    response.writeHead(answer.status, answer.headers);
  } catch (error) {
    // The answer cannot be sent (a header node refuses). A streamed call must still end as one: cancel the upstream
    // and run the stream to its end, which settles the call, before reporting the failure.
    abort.abort();
    if (typeof body !== "string" && !(body instanceof Uint8Array)) {
      for await (const _ of body) {
        // Discarded: nobody can receive it.
      }
    }
    throw error;
  }
  if (typeof body === "string" || body instanceof Uint8Array) {
    response.end(body);
    return;
  }
  const iterator = body[Symbol.asyncIterator]();
  // When the client goes away, stop pulling from the stream: the generator's cleanup settles the call and the
  // aborted signal has already cancelled the upstream request.
  const onClose = () => void iterator.return?.();
  response.once("close", onClose);
  // The headers go out with the first chunk, in one packet, when it is ready at once (a stream's first chunk
  // normally is): a write of their own would cost a syscall per stream. A body that makes the client wait for its
  // first chunk still gets its headers out on this turn of the event loop.
  let flushHeaders: NodeJS.Immediate | undefined = setImmediate(() => response.flushHeaders());
  try {
    for (;;) {
      const next = await iterator.next();
      if (flushHeaders !== undefined) {
        clearImmediate(flushHeaders);
        flushHeaders = undefined;
      }
      if (next.done === true || abort.signal.aborted) break;
      if (!response.write(next.value)) {
        await new Promise<void>((resolve) => {
          const resume = () => {
            response.off("drain", resume);
            response.off("close", resume);
            resolve();
          };
          response.on("drain", resume);
          response.on("close", resume);
        });
      }
    }
  } finally {
    clearImmediate(flushHeaders);
    response.off("close", onClose);
    response.end();
  }
}

/** Serves one /v1 request from the gateway core over node:http, with no framework in between. */
export async function serveGatewayRequest(
  gateway: Pick<Gateway, "handle">,
  request: IncomingMessage,
  response: ServerResponse,
  options: { maxBodyBytes: number },
): Promise<void> {
  const abort = new AbortController();
  response.once("close", () => {
    if (!response.writableFinished) abort.abort();
  });
  const url = new URL(request.url ?? "/", "http://gateway.local");
  let body: Buffer | null;
  try {
    body = await readRequestBody(request, options.maxBodyBytes);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    body = null;
  }
  const answer: GatewayResponse = await gateway.handle({
    method: request.method ?? "GET",
    path: url.pathname,
    query: url.searchParams,
    headers: flatHeaders(request),
    body: body ?? EMPTY_BODY,
    ...(body === null ? { bodyOverLimit: options.maxBodyBytes } : {}),
    ...(request.socket.remoteAddress === undefined ? {} : { clientAddress: request.socket.remoteAddress }),
    signal: abort.signal,
  });
  await writeResponse(response, answer, abort);
}
