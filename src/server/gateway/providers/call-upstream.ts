import { Agent, request as undiciRequest } from "undici";
import { UpstreamTimeoutError, type UpstreamTransport } from "./types";

const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

function isTimeout(error: unknown): boolean {
  return typeof error === "object" && error !== null && TIMEOUT_CODES.has((error as { code?: string }).code ?? "");
}

export interface HttpTransportOptions {
  connectTimeoutMs?: number;
  /** Longest wait for the response headers (a model may think before its first byte). */
  headersTimeoutMs?: number;
  /** Longest silence between two body chunks. */
  bodyTimeoutMs?: number;
  connectionsPerOrigin?: number;
}

export interface HttpTransport {
  send: UpstreamTransport;
  close(): Promise<void>;
}

/**
 * The only place the gateway talks HTTP to providers: undici's pooled `request` with keep-alive connections per
 * origin, so a call costs no TCP or TLS handshake once the pool is warm.
 */
export function createHttpTransport(options: HttpTransportOptions = {}): HttpTransport {
  const agent = new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    connections: options.connectionsPerOrigin ?? 256,
    connect: { timeout: options.connectTimeoutMs ?? 10_000 },
    headersTimeout: options.headersTimeoutMs ?? 300_000,
    bodyTimeout: options.bodyTimeoutMs ?? 300_000,
  });
  return {
    async send(request, signal) {
      const response = await undiciRequest(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal,
        dispatcher: agent,
      }).catch((error: unknown) => {
        throw isTimeout(error) ? new UpstreamTimeoutError("upstream timed out", { cause: error }) : error;
      });
      return {
        status: response.statusCode,
        headers: response.headers,
        body: response.body,
        // Iterating is much cheaper than undici's body.text(), which goes through a web stream.
        text: () => readBodyText(response.body),
      };
    },
    close: () => agent.close(),
  };
}

/** Reads a whole upstream body as text, refusing bodies larger than the limit. */
export async function readBodyText(body: AsyncIterable<Uint8Array>, limitBytes = 64 * 1024 * 1024): Promise<string> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of body) {
    size += part.byteLength;
    if (size > limitBytes) throw new Error(`upstream body larger than ${limitBytes} bytes`);
    parts.push(part);
  }
  return Buffer.concat(parts).toString("utf8");
}
