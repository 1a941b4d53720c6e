import type { TokenUsage } from "../billing/compute-cost";
import type { ChatCompletionRequest } from "../protocol/chat-completion-request";
import type { ChatCompletion, ChatCompletionChunk } from "../protocol/chat-completion-response";
import type { UpstreamVector } from "../protocol/embedding-encoding";
import type { EmbeddingsRequest } from "../protocol/embeddings-request";
import type { ChannelTimeouts, ResolvedChannel } from "../routing/catalog";

export interface UpstreamHttpRequest {
  url: string;
  method: "POST" | "GET";
  headers: Record<string, string>;
  body: string | null;
  /** Request fields this provider does not support that were left out (reported to the client in a header). */
  droppedParameters?: readonly string[];
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as it arrives (streams). Read either this or `text()`, once. */
  body: AsyncIterable<Uint8Array>;
  /** The whole body as text (errors, non-streamed answers). */
  text(): Promise<string>;
}

/**
 * The upstream did not connect, answer or finish within the call's time limits. Raised before the headers by the
 * transport's promise, and after them by the body's iteration (silence past the idle limit, or the total limit).
 */
export class UpstreamTimeoutError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UpstreamTimeoutError";
  }
}

export interface UpstreamCallOptions {
  /** The channel's own time limits; a null one is the transport's configured default. */
  timeouts?: ChannelTimeouts;
}

/**
 * The only I/O in the provider layer: sends one HTTP request upstream (or to an in-process upstream, which may ignore
 * the time limits). `signal` is the client's: its abort is a disconnect, never reported as a timeout.
 */
export type UpstreamTransport = (
  request: UpstreamHttpRequest,
  signal: AbortSignal,
  options?: UpstreamCallOptions,
) => Promise<UpstreamResponse>;

export interface BuildRequestInput {
  request: ChatCompletionRequest;
  upstreamModel: string;
  channel: ResolvedChannel;
  stream: boolean;
  /** The model's largest output, for providers that require a token limit on every request (Anthropic). */
  maxOutputTokens?: number;
  /** What a client of the Anthropic door asked for that only Anthropic channels take. */
  anthropic?: AnthropicOptions;
}

/** Anthropic's own request options, as a client of `POST /v1/messages` sent them. */
export interface AnthropicOptions {
  /** `anthropic-beta` features, allowlisted. */
  betas: readonly string[];
  /** Anthropic's `thinking` object (enabled with a budget, adaptive, disabled), sent as it is. */
  thinking?: unknown;
  /** The request-wide `cache_control`. */
  cacheControl?: unknown;
  serviceTier?: string;
}

/** One event of an upstream SSE stream, already split by eventsource-parser. */
export interface SseEvent {
  event?: string | undefined;
  data: string;
}

export type StreamItem =
  { type: "chunk"; chunk: ChatCompletionChunk } | { type: "error"; error: UpstreamErrorInfo } | { type: "done" };

export interface UpstreamErrorInfo {
  /** The status to give the client (upstream 5xx and auth failures become 502). */
  status: number;
  type: string;
  code: string | null;
  /** Safe to show the client: upstream text for request errors, a generic line otherwise. */
  message: string;
  param: string | null;
}

/**
 * A provider adapter is pure: it turns our OpenAI-shaped request into the provider's HTTP request and the
 * provider's answers back into OpenAI shapes. It never performs I/O.
 */
export interface ProviderAdapter {
  /**
   * The provider cannot fetch `image_url` URLs itself: the gateway downloads each http(s) image URL (refusing
   * private and loopback addresses) and hands `buildRequest` a request whose images are `data:` URLs.
   */
  inlinesImageUrls?: boolean;
  /**
   * The request capabilities this adapter can carry to its provider, in the catalog's vocabulary (`tools`,
   * `reasoning`, `top_k`, …). `/v1/models` lists a model's parameters only where one of its endpoints' adapters
   * carries them; undefined means the adapter passes everything through.
   */
  supportedParameters?: ReadonlySet<string>;
  buildRequest(input: BuildRequestInput): UpstreamHttpRequest;
  parseResponse(body: unknown): ChatCompletion;
  /** Returns a stateful function mapping each upstream SSE event to zero or more stream items. */
  createStreamTransformer(): (event: SseEvent) => StreamItem[];
  parseUsage(usage: unknown): TokenUsage | null;
  parseError(status: number, bodyText: string): UpstreamErrorInfo;
  /** Embeddings (POST /v1/embeddings), for providers that make them; their errors are read by `parseError`. */
  embeddings?: EmbeddingsCapability;
}

export interface BuildEmbeddingsInput {
  /** The client's request as POST /v1/embeddings received it. */
  request: EmbeddingsRequest;
  upstreamModel: string;
  channel: ResolvedChannel;
}

/** What an upstream answered to an embeddings request. */
export interface UpstreamEmbeddings {
  /** One per input, in input order: numbers, or base64 of little-endian float32 (OpenAI's `encoding_format`). */
  vectors: UpstreamVector[];
  /** The input tokens the upstream counted; null when it reports none (the gateway counts them itself). */
  promptTokens: number | null;
}

/** A provider's embeddings API, pure like the rest of its adapter. */
export interface EmbeddingsCapability {
  /** Inputs given as token ids (number[] / number[][]) can be sent; a provider that takes only text cannot. */
  acceptsTokenArrays: boolean;
  /** The embeddings parameters it carries (`dimensions`, `encoding_format`, `user`), for `/v1/models` and routing. */
  supportedParameters: ReadonlySet<string>;
  buildRequest(input: BuildEmbeddingsInput): UpstreamHttpRequest;
  /** Throws when the body is not an embeddings answer. */
  parseResponse(body: unknown): UpstreamEmbeddings;
}
