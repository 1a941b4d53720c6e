import { ZERO_USAGE } from "../billing/compute-cost";
import { measureEmbeddingInput } from "../billing/estimate-tokens";
import { nanoToUsdNumber } from "../billing/money";
import type { GatewayDeps } from "../deps";
import { errors } from "../errors";
import type { GatewayRequest, GatewayResponse } from "../http";
import type { Principal } from "../keys/api-key-authenticator";
import type { RequestRecord } from "../observe/request-record";
import { encodeEmbedding, type EncodingFormat } from "../protocol/embedding-encoding";
import {
  embeddingInputs,
  hasTokenInput,
  type EmbeddingInput,
  type EmbeddingsRequest,
} from "../protocol/embeddings-request";
import type { EmbeddingList } from "../protocol/embeddings-response";
import type { EmbeddingsCapability, ProviderAdapter, UpstreamResponse } from "../providers/types";
import type { CatalogModel, ModelEndpoint } from "../routing/catalog";
import { chatModelOnEmbeddings, isEmbeddingModel, embeddingDimensions } from "../routing/model-kind";
import { findModel } from "../routing/find-model";
import { routeCandidates } from "../routing/route-candidates";
import { admitCall, INPUT_ONLY } from "./admit-call";
import { responseHeaders, type CallContext } from "./call-context";
import { openWithFailover } from "./failover";
import { parseAnswer, readAnswerText } from "./read-whole-answer";
import { holdSettled, settle, settleFailure } from "./settle-call";

export interface EmbeddingsCall {
  /** The request as operators see it: its id, when it arrived, where from. */
  record: RequestRecord;
  body: EmbeddingsRequest;
}

/** The embeddings of one upstream answer, already in the form the client asked for. */
interface EmbeddingsAnswer {
  vectors: (number[] | string)[];
  promptTokens: number | null;
}

/** The capability of an adapter that routing chose for an embeddings call (it keeps only adapters that have one). */
function embeddingsOf(adapter: ProviderAdapter): EmbeddingsCapability {
  if (adapter.embeddings === undefined) throw new Error("an embeddings call was routed to an adapter without them");
  return adapter.embeddings;
}

/** `dimensions` only for models that can shorten their vectors, and never longer than they are. */
function checkDimensions(model: CatalogModel, dimensions: number | null | undefined): void {
  if (dimensions == null) return;
  if (!model.supportedParameters.includes("dimensions")) {
    throw errors.invalidRequest(
      `\`${model.id}\` makes vectors of one size only: leave out \`dimensions\`.`,
      "dimensions",
      "unsupported_parameter",
    );
  }
  // An embedding model's catalog entry gives its vectors' length as its largest output.
  if (dimensions > embeddingDimensions(model)) {
    throw errors.invalidRequest(
      `Invalid value for \`dimensions\`: \`${model.id}\` makes vectors of at most ${embeddingDimensions(model)} dimensions.`,
      "dimensions",
      "invalid_value",
    );
  }
}

/**
 * The model's endpoints that can answer these inputs: their adapter makes embeddings, and takes token ids when the
 * inputs has some. Refused with a 400 saying why when none can (nothing is held, nothing sent).
 */
function servingEndpoints(model: CatalogModel, inputs: readonly EmbeddingInput[], deps: GatewayDeps): ModelEndpoint[] {
  const embedding = model.endpoints.flatMap((endpoint) => {
    const capability = deps.providers.forChannel(endpoint.channel).adapter.embeddings;
    return capability === undefined ? [] : [{ endpoint, capability }];
  });
  if (embedding.length === 0) {
    const providers = [...new Set(model.endpoints.map(({ channel }) => channel.provider))].join(", ");
    throw errors.invalidRequest(
      `\`${model.id}\` is served here only by providers that make no embeddings (${providers}), so it cannot be ` +
        "called on POST /v1/embeddings.",
      "model",
      "embeddings_not_supported",
    );
  }
  const usable = hasTokenInput(inputs)
    ? embedding.filter(({ capability }) => capability.acceptsTokenArrays)
    : embedding;
  if (usable.length === 0) {
    throw errors.invalidRequest(
      `\`${model.id}\` is served here only by providers that embed text, not token ids: send \`input\` as text.`,
      "input",
      "token_input_not_supported",
    );
  }
  return usable.map(({ endpoint }) => endpoint);
}

/**
 * Reads an answered embeddings call whole and puts each vector in the form the client asked for. An answer with
 * another number of vectors than inputs, or an undecodable one, is garbage: it fails over like a broken body.
 */
async function readEmbeddings(
  context: CallContext,
  capability: EmbeddingsCapability,
  upstream: UpstreamResponse,
  expected: { inputs: number; format: EncodingFormat },
  signal: AbortSignal,
): Promise<EmbeddingsAnswer> {
  const text = await readAnswerText(context, upstream, signal);
  return parseAnswer(context, text, (json) => {
    const answer = capability.parseResponse(json);
    if (answer.vectors.length !== expected.inputs) {
      throw new Error(`${answer.vectors.length} embeddings answered for ${expected.inputs} inputs`);
    }
    const vectors = answer.vectors.map((vector) => {
      const encoded = encodeEmbedding(vector, expected.format);
      if (encoded === null) throw new Error("an embedding is not base64 of float32 values");
      return encoded;
    });
    return { vectors, promptTokens: answer.promptTokens };
  });
}

/**
 * One embeddings call: the model checked against the catalog (an embedding model) and the key, candidates that can
 * embed routed by the request's `provider` preferences, the worst case held (every input token, at most the
 * tokenizer's bound, at the dearest candidate's input price), then the first candidate that answers whole (failover
 * as for a chat completion), billed per input token at its input price: the upstream's count, or the tokenizer's
 * (`estimated`) when it reports none. From the hold on, every way out settles the call.
 */
export async function runEmbeddings(
  request: GatewayRequest,
  principal: Principal,
  deps: GatewayDeps,
  call: EmbeddingsCall,
): Promise<GatewayResponse> {
  const { body } = call;
  const model = findModel(deps, principal, body.model);
  if (!isEmbeddingModel(model)) throw chatModelOnEmbeddings(model.id);
  checkDimensions(model, body.dimensions);
  const inputs = embeddingInputs(body.input);
  const served: CatalogModel = { ...model, endpoints: servingEndpoints(model, inputs, deps) };
  // The inputs are no parameter a provider must carry; the rest is (`provider.require_parameters`).
  const { input: _input, ...parameters } = body;
  const candidates = routeCandidates(
    parameters,
    served,
    principal,
    deps,
    (adapter) => adapter.embeddings?.supportedParameters,
  );
  const first = candidates[0]!;
  const context: CallContext = {
    deps,
    principal,
    model: first.model,
    endpoint: first.endpoint,
    generationId: deps.newGenerationId(),
    startedAt: call.record.startedAt,
    request: call.record,
    streamed: false,
    prompt: measureEmbeddingInput(inputs),
    upstreamCalls: 1,
    attempts: [],
  };
  // From here on the call holds part of the balance: every way out settles it, which releases the hold.
  await admitCall(context, INPUT_ONLY, candidates);
  const expected = { inputs: inputs.length, format: body.encoding_format ?? "float" };
  try {
    const { answer } = await openWithFailover(
      context,
      candidates,
      (candidate, binding) =>
        embeddingsOf(binding.adapter).buildRequest({
          request: body,
          upstreamModel: candidate.endpoint.upstreamModel,
          channel: candidate.endpoint.channel,
        }),
      request.signal,
      async (opened) => ({
        ...opened,
        answer: await readEmbeddings(
          context,
          embeddingsOf(opened.binding.adapter),
          opened.upstream,
          expected,
          request.signal,
        ),
      }),
    );
    const metered = settle(context, {
      httpStatus: 200,
      usage: { ...ZERO_USAGE, promptTokens: answer.promptTokens ?? context.prompt.tokens },
      completed: true,
      estimated: answer.promptTokens === null,
    });
    await holdSettled(context);
    const list: EmbeddingList = {
      object: "list",
      data: answer.vectors.map((embedding, index) => ({ object: "embedding", index, embedding })),
      model: context.model.id,
      usage: {
        prompt_tokens: metered.usage.promptTokens,
        total_tokens: metered.usage.promptTokens,
        cost: nanoToUsdNumber(metered.costNano),
      },
    };
    return {
      status: 200,
      headers: { "content-type": "application/json", ...responseHeaders(context) },
      body: JSON.stringify(list),
    };
  } catch (error) {
    throw await settleFailure(context, error);
  }
}
