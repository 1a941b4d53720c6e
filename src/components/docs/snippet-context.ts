import type { CatalogEntry } from "~/components/catalog/catalog-entry";
import type { SnippetContext, SnippetTopic } from "./snippets";

const DEMO_MODEL = "tollgate/echo";
const DEMO_PROVIDER = "tollgate";
const DEFAULT_EMBEDDING_MODEL = "openai/text-embedding-3-small";

const isChat = (entry: CatalogEntry) => entry.outputModalities.includes("text");

/** Which models a topic's samples should show: ones that can do what the page is about. */
const SUITS: Partial<Record<SnippetTopic, (entry: CatalogEntry) => boolean>> = {
  tools: (entry) => isChat(entry) && entry.supportsTools,
  "structured-outputs": (entry) => isChat(entry) && entry.supportsStructuredOutputs,
  vision: (entry) => isChat(entry) && entry.inputModalities.includes("image"),
  reasoning: (entry) => isChat(entry) && entry.supportsReasoning,
};

const blendedPrice = (entry: CatalogEntry) => Number(entry.inputPerMillion) + Number(entry.outputPerMillion);

/**
 * The models a page's samples name, from what this deployment serves: the cheapest models that suit the topic (a
 * reader trying a sample should not pay much), else the offline demo model, which every deployment has.
 */
export function snippetContextFor(
  topic: SnippetTopic,
  entries: readonly CatalogEntry[],
  baseUrl: string,
): SnippetContext {
  const suits = SUITS[topic] ?? isChat;
  const candidates = entries
    .filter((entry) => entry.id !== DEMO_MODEL && suits(entry))
    .sort((a, b) => blendedPrice(a) - blendedPrice(b) || a.id.localeCompare(b.id));
  const [first, second] = candidates;
  const embedding = entries.find((entry) => entry.outputModalities.includes("embeddings"));
  return {
    baseUrl,
    model: first?.id ?? DEMO_MODEL,
    fallbackModel: second?.id ?? first?.id ?? DEMO_MODEL,
    provider: first?.providers[0] ?? DEMO_PROVIDER,
    embeddingModel: embedding?.id ?? DEFAULT_EMBEDDING_MODEL,
  };
}
