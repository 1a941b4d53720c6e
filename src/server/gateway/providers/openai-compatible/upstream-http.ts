import type { ResolvedChannel } from "../../routing/catalog";

/** `baseUrl` and an API path joined without a doubled slash. */
export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, "")}${path}`;
}

/**
 * The headers of a JSON request to an OpenAI-compatible upstream: the channel's key as `Authorization: Bearer`, or
 * in `apiKeyHeader` when the upstream wants it there; none for a keyless (self-hosted) upstream.
 */
export function upstreamHeaders(
  channel: ResolvedChannel,
  accept: string,
  apiKeyHeader: string | undefined,
): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json", accept };
  if (channel.apiKey !== null) {
    if (apiKeyHeader === undefined) headers.authorization = `Bearer ${channel.apiKey}`;
    else headers[apiKeyHeader] = channel.apiKey;
  }
  return headers;
}
