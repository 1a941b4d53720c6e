/**
 * The core's whole HTTP surface: a plain request in, a plain response out. The node:http entry and the Next route
 * handlers adapt to these, so the hot path pays for no framework.
 */
export interface GatewayRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  body: Uint8Array;
  /** Set by the adapter when the body was larger than this many bytes and was left unread (the body is empty). */
  bodyOverLimit?: number;
  /** The connection's peer address, where the adapter knows it (for the request log). */
  clientAddress?: string;
  /** Fires when the client goes away; passed all the way to the upstream call. */
  signal: AbortSignal;
}

export type GatewayResponseBody = string | Uint8Array | AsyncIterable<string | Uint8Array>;

export interface GatewayResponse {
  status: number;
  headers: Record<string, string>;
  body: GatewayResponseBody;
}

export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): GatewayResponse {
  return { status, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(value) };
}
