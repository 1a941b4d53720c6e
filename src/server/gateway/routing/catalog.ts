import type { TokenPrices } from "../billing/compute-cost";
import type { Logger } from "../logger";

export type ChannelKind = "openai" | "anthropic" | "gemini" | "openai-compatible" | "demo";

/** An upstream account with its secret decrypted, held only in memory. */
export interface ResolvedChannel {
  id: string;
  name: string;
  kind: ChannelKind;
  provider: string;
  baseUrl: string;
  apiKey: string | null;
  priority: number;
  weight: number;
  /** Whether the provider may retain prompts (`provider.data_collection: "deny"` excludes those that may). */
  retainsData: boolean;
  /**
   * A router in front of other providers (OpenRouter): within a priority tier it comes after the native channels.
   * Absent means a native channel.
   */
  aggregator?: boolean;
  /**
   * The channel's own time limits (the catalog always sets them from the row); absent means every limit is the
   * configured default, as for a channel built outside the catalog.
   */
  timeouts?: ChannelTimeouts;
}

/**
 * A channel's own upstream time limits in milliseconds, as its row sets them; null means the gateway's configured
 * default. Defaults are applied at call time by the HTTP transport, which is built with them from the environment:
 * that keeps them in the one place that enforces them, and the catalog a plain copy of the channels table (the
 * gateway core reads no environment).
 */
export interface ChannelTimeouts {
  /** Opening the TCP (and TLS) connection. */
  connectMs: number | null;
  /** From sending the request to the response headers (a reasoning model may think first). */
  firstByteMs: number | null;
  /** Longest silence between two body chunks. */
  idleMs: number | null;
  /** The whole call, headers and body. */
  totalMs: number | null;
}

export interface ModelEndpoint {
  id: string;
  upstreamModel: string;
  /** Markup included: the endpoint's own, or the platform's. */
  prices: TokenPrices;
  /** The price version these prices are (`endpoint_price_versions.id`), recorded on each generation billed at them. */
  priceVersionId: number | null;
  priority: number;
  weight: number;
  channel: ResolvedChannel;
}

export interface CatalogModel {
  id: string;
  name: string;
  description: string;
  author: string;
  contextLength: number;
  maxOutputTokens: number;
  inputModalities: string[];
  outputModalities: string[];
  supportedParameters: string[];
  /** Unix seconds. */
  created: number;
  /** Enabled endpoints on enabled channels only. */
  endpoints: ModelEndpoint[];
}

export interface Catalog {
  getModel(id: string): CatalogModel | undefined;
  /** Models that at least one endpoint can serve, sorted by id. */
  listModels(): CatalogModel[];
  /** Re-reads the catalog (after an operator changed channels, models or prices). */
  reload(): Promise<void>;
}

/** Keeps the whole routable catalog in memory: /v1 never queries the database to find a model. */
export async function createCatalog(options: {
  load: () => Promise<CatalogModel[]>;
  logger: Logger;
}): Promise<Catalog> {
  let byId = new Map<string, CatalogModel>();
  let listed: CatalogModel[] = [];

  async function reload(): Promise<void> {
    const models = await options.load();
    byId = new Map(models.map((model) => [model.id, model]));
    listed = models.filter((model) => model.endpoints.length > 0).sort((a, b) => a.id.localeCompare(b.id));
    options.logger.debug("catalog loaded", { models: models.length, routable: listed.length });
  }

  await reload();
  return {
    getModel: (id) => byId.get(id),
    listModels: () => listed,
    reload,
  };
}
