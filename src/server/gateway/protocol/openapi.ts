import { z } from "zod";
import {
  activitySchema,
  chatCompletionChunkSchema,
  chatCompletionSchema,
  creditsSchema,
  errorBodySchema,
  generationSchema,
  keyInfoSchema,
  modelEndpointsSchema,
  modelListSchema,
  modelSchema,
  publicModelListSchema,
  publicModelSchema,
  priceListSchema,
  usageSchema,
} from "./api-schemas";
import { anthropicErrorSchema, anthropicMessageSchema, inputTokenCountSchema } from "./anthropic-message-schemas";
import { anthropicMessagesRequestSchema } from "./anthropic-messages-request";
import { chatCompletionRequestSchema } from "./chat-completion-request";
import { responsesRequestSchema } from "./responses-request";
import { responseSchema } from "./responses-schemas";
import { embeddingsRequestSchema } from "./embeddings-request";
import { embeddingListSchema } from "./embeddings-response";

type JsonSchema = Record<string, unknown>;

const ERROR_STATUSES: Record<string, string> = {
  "400": "Invalid request; `param` names the offending field",
  "401":
    "Missing, malformed or unknown API key (`invalid_api_key`), or a revoked, disabled or expired one " +
    "(`api_key_revoked`, `api_key_disabled`, `api_key_expired`)",
  "402": "No available credit for the call (`insufficient_credits`), or the key's spend limit is reached",
  "403": "This key may not use the model",
  "404": "Unknown model or URL",
  "405": "Wrong method; `Allow` names the right one",
  "408": "The upstream provider did not answer in time",
  "413": "Request body too large",
  "429": "Rate limited; see `Retry-After`",
  "502": "The upstream provider failed or answered garbage",
  "503": "No upstream available; see `Retry-After`",
  "504": "The upstream provider (or a proxy before it) timed out",
};

/**
 * GET /v1/openapi.json: an OpenAPI 3.1 description of the public API, generated from the zod schemas that validate
 * requests and type the answers. Built once per process: it depends on nothing but code.
 */
export function buildOpenApiDocument(): JsonSchema {
  // Schemas registered with an id become components; references to them are rewritten to OpenAPI's location.
  const registry = z.registry<{ id?: string }>();
  const named = {
    ChatCompletionRequest: chatCompletionRequestSchema,
    ChatCompletion: chatCompletionSchema,
    ChatCompletionChunk: chatCompletionChunkSchema,
    Usage: usageSchema,
    Error: errorBodySchema,
    Model: modelSchema,
    PublicModel: publicModelSchema,
    PublicModelList: publicModelListSchema,
    ModelList: modelListSchema,
    ModelEndpoints: modelEndpointsSchema,
    PriceList: priceListSchema,
    KeyInfo: keyInfoSchema,
    Credits: creditsSchema,
    Generation: generationSchema,
    Activity: activitySchema,
    MessagesRequest: anthropicMessagesRequestSchema,
    CountTokensRequest: anthropicMessagesRequestSchema.partial({ max_tokens: true }),
    AnthropicMessage: anthropicMessageSchema,
    AnthropicError: anthropicErrorSchema,
    InputTokenCount: inputTokenCountSchema,
    ResponsesRequest: responsesRequestSchema,
    Response: responseSchema,
    EmbeddingsRequest: embeddingsRequestSchema,
    EmbeddingList: embeddingListSchema,
  };
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const generated = z.toJSONSchema(registry, {
    target: "draft-2020-12",
    io: "input",
    unrepresentable: "any",
    uri: (id) => `#/components/schemas/${id}`,
  });
  const schemas: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(generated.schemas)) {
    const { $schema: _dialect, $id: _id, ...rest } = schema as JsonSchema;
    schemas[id] = rest;
  }

  const ref = (id: keyof typeof named) => ({ $ref: `#/components/schemas/${id}` });
  const json = (id: keyof typeof named) => ({ "application/json": { schema: ref(id) } });
  const errorResponses = (statuses: string[]) =>
    Object.fromEntries(
      statuses.map((status) => [status, { description: ERROR_STATUSES[status], content: json("Error") }]),
    );
  const authErrors = ["401", "405"];
  const anthropicErrors = (statuses: string[]) =>
    Object.fromEntries(
      statuses.map((status) => [
        status === "503" ? "529" : status,
        {
          description: status === "503" ? "No upstream available (Anthropic's overloaded)" : ERROR_STATUSES[status],
          content: json("AnthropicError"),
        },
      ]),
    );
  // Anthropic's SDKs send their key as x-api-key; the Anthropic door takes that or a bearer token.
  const anthropicSecurity = [{ bearer: [] }, { apiKey: [] }];

  return {
    openapi: "3.1.0",
    info: {
      title: "Tollgate API",
      version: "1.0.0",
      description:
        "OpenAI-compatible LLM gateway. Point any OpenAI client at this server's /v1 with a `sk-gw-` key. Every " +
        "answer reports its cost in `usage.cost` (US dollars).",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "sk-gw- followed by 32 hex digits" },
        apiKey: { type: "apiKey", in: "header", name: "x-api-key", description: "The same key (Anthropic's header)" },
      },
      schemas,
    },
    paths: {
      "/v1/chat/completions": {
        post: {
          operationId: "createChatCompletion",
          summary: "Create a chat completion (OpenAI's Chat Completions, streaming or not)",
          requestBody: { required: true, content: json("ChatCompletionRequest") },
          responses: {
            "200": {
              description: "The completion; with `stream: true`, server-sent events of chunks ending in `data: [DONE]`",
              headers: {
                "x-request-id": { schema: { type: "string" } },
                "x-generation-id": { schema: { type: "string" } },
              },
              content: {
                ...json("ChatCompletion"),
                "text/event-stream": { schema: ref("ChatCompletionChunk") },
              },
            },
            ...errorResponses(["400", ...authErrors, "402", "403", "404", "408", "413", "429", "502", "503", "504"]),
          },
        },
      },
      "/v1/embeddings": {
        post: {
          operationId: "createEmbedding",
          summary:
            "Create embeddings (OpenAI's embeddings API) with an embedding model; billed per input token at the " +
            "model's input price",
          requestBody: { required: true, content: json("EmbeddingsRequest") },
          responses: {
            "200": {
              description: "One vector per input, in the requested encoding, with the usage and its cost",
              headers: {
                "x-request-id": { schema: { type: "string" } },
                "x-generation-id": { schema: { type: "string" } },
              },
              content: json("EmbeddingList"),
            },
            ...errorResponses(["400", ...authErrors, "402", "403", "404", "408", "413", "429", "502", "503", "504"]),
          },
        },
      },
      "/v1/messages": {
        post: {
          operationId: "createMessage",
          summary:
            "Create a message (Anthropic's Messages API, streaming or not) with any model: for Claude Code and " +
            "Anthropic's SDKs. Errors come in Anthropic's shape.",
          security: anthropicSecurity,
          parameters: [
            { name: "anthropic-version", in: "header", required: false, schema: { type: "string" } },
            {
              name: "anthropic-beta",
              in: "header",
              required: false,
              description: "Beta features; those on the gateway's allowlist are passed to Anthropic channels",
              schema: { type: "string" },
            },
          ],
          requestBody: { required: true, content: json("MessagesRequest") },
          responses: {
            "200": {
              description:
                "The message; with `stream: true`, Anthropic's server-sent events (message_start, content_block_*, " +
                "message_delta with the billed usage and cost, message_stop; ping while waiting; error)",
              headers: { "x-generation-id": { schema: { type: "string" } } },
              content: { ...json("AnthropicMessage"), "text/event-stream": { schema: {} } },
            },
            ...anthropicErrors(["400", ...authErrors, "402", "403", "404", "408", "413", "429", "502", "503", "504"]),
          },
        },
      },
      "/v1/responses": {
        post: {
          operationId: "createResponse",
          summary:
            "Create a response (OpenAI's Responses API, streaming or not) with any model. Stateless: send the whole " +
            "conversation in `input` each time; `store: true` and `previous_response_id` are refused.",
          requestBody: { required: true, content: json("ResponsesRequest") },
          responses: {
            "200": {
              description:
                "The response; with `stream: true`, OpenAI's server-sent events (response.created, output items added, " +
                "filled and done, then response.completed or response.incomplete with the billed usage and cost, or " +
                "response.failed), without a `[DONE]` line",
              headers: {
                "x-request-id": { schema: { type: "string" } },
                "x-generation-id": { schema: { type: "string" } },
              },
              content: { ...json("Response"), "text/event-stream": { schema: {} } },
            },
            ...errorResponses(["400", ...authErrors, "402", "403", "404", "408", "413", "429", "502", "503", "504"]),
          },
        },
      },
      "/v1/messages/count_tokens": {
        post: {
          operationId: "countMessageTokens",
          summary: "Count a Messages request's input tokens as the gateway measures them; free",
          security: anthropicSecurity,
          requestBody: { required: true, content: json("CountTokensRequest") },
          responses: {
            "200": { description: "The count", content: json("InputTokenCount") },
            ...anthropicErrors(["400", ...authErrors, "403", "404"]),
          },
        },
      },
      "/v1/models": {
        get: {
          operationId: "listModels",
          summary: "Models this key may use, with context length, modalities and prices",
          responses: {
            "200": { description: "The models", content: json("ModelList") },
            ...errorResponses(authErrors),
          },
        },
      },
      "/v1/models/{id}": {
        get: {
          operationId: "getModel",
          summary: "One model",
          parameters: [
            { name: "id", in: "path", required: true, schema: { type: "string" }, example: "openai/gpt-4.1" },
          ],
          responses: {
            "200": { description: "The model", content: json("Model") },
            ...errorResponses([...authErrors, "404"]),
          },
        },
      },
      "/v1/models/{author}/{slug}/endpoints": {
        get: {
          operationId: "listModelEndpoints",
          summary: "The providers serving one model, with their prices and live latency, throughput and uptime",
          parameters: [
            { name: "author", in: "path", required: true, schema: { type: "string" }, example: "openai" },
            { name: "slug", in: "path", required: true, schema: { type: "string" }, example: "gpt-4.1" },
          ],
          responses: {
            "200": { description: "The model's endpoints", content: json("ModelEndpoints") },
            ...errorResponses([...authErrors, "404"]),
          },
        },
      },
      "/api/v1/models": {
        get: {
          operationId: "listPublicModels",
          summary: "The public catalog: every listed model with the prices charged (no key needed, OpenRouter's shape)",
          security: [],
          parameters: [
            {
              name: "supported_parameters",
              in: "query",
              required: false,
              schema: { type: "string" },
              example: "tools,response_format",
              description: "Comma-separated: only the models that take all of these parameters",
            },
          ],
          responses: {
            "200": { description: "The models", content: json("PublicModelList") },
            "304": { description: "Unchanged since the ETag sent in If-None-Match" },
          },
        },
      },
      "/api/v1/models/{author}/{slug}/endpoints": {
        get: {
          operationId: "listPublicModelEndpoints",
          summary: "The providers serving one model, with their prices and live statistics (no key needed)",
          security: [],
          parameters: [
            { name: "author", in: "path", required: true, schema: { type: "string" }, example: "openai" },
            { name: "slug", in: "path", required: true, schema: { type: "string" }, example: "gpt-4.1" },
          ],
          responses: {
            "200": { description: "The model's endpoints", content: json("ModelEndpoints") },
            ...errorResponses(["404"]),
          },
        },
      },
      "/v1/prices": {
        get: {
          operationId: "listPrices",
          summary: "Price list in US dollars per one million tokens, per model and provider",
          responses: {
            "200": { description: "The price list", content: json("PriceList") },
            ...errorResponses(authErrors),
          },
        },
      },
      "/v1/key": {
        get: {
          operationId: "getKey",
          summary: "This key: name, limits, spend and expiry",
          responses: { "200": { description: "The key", content: json("KeyInfo") }, ...errorResponses(authErrors) },
        },
      },
      "/v1/credits": {
        get: {
          operationId: "getCredits",
          summary: "The account's total credits and total usage",
          responses: { "200": { description: "The totals", content: json("Credits") }, ...errorResponses(authErrors) },
        },
      },
      "/v1/generation": {
        get: {
          operationId: "getGeneration",
          summary: "One generation: model, provider, tokens, cost, latency, finish reason",
          parameters: [{ name: "id", in: "query", required: true, schema: { type: "string" } }],
          responses: {
            "200": { description: "The generation", content: json("Generation") },
            ...errorResponses(["400", ...authErrors, "404"]),
          },
        },
      },
      "/v1/activity": {
        get: {
          operationId: "getActivity",
          summary:
            "The account's usage per UTC day, model and provider over the last 30 complete UTC days, newest first",
          parameters: [
            {
              name: "date",
              in: "query",
              required: false,
              description: "One of the last 30 complete UTC days, YYYY-MM-DD",
              schema: { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}$" },
            },
            {
              name: "key",
              in: "query",
              required: false,
              description: "Only the calls of one of the account's keys, by id or display prefix (sk-gw-1a2b3c4d)",
              schema: { type: "string" },
            },
          ],
          responses: {
            "200": { description: "The daily rows", content: json("Activity") },
            ...errorResponses(["400", ...authErrors]),
          },
        },
      },
      "/v1/openapi.json": {
        get: {
          operationId: "getOpenApi",
          summary: "This document",
          security: [],
          responses: { "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: {} } } } },
        },
      },
    },
  };
}
