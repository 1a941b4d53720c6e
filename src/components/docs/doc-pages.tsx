import Link from "next/link";
import type { ReactNode } from "react";
import type { SnippetTopic } from "./snippets";

/*
 * The docs' pages: what each says, in the order the sidebar lists them. Code samples come from snippets.ts (run by
 * the test suite); the prose here describes what the gateway does, as the README does for operators.
 */

export interface DocPageProps {
  /** The code samples of a topic, rendered for this deployment. */
  samples: (topic: SnippetTopic) => ReactNode;
  /** `https://host/v1` */
  baseUrl: string;
}

export interface DocPage {
  /** "" for the quick start at /docs. */
  slug: string;
  title: string;
  summary: string;
  Body: (props: DocPageProps) => ReactNode;
}

const c = (text: string) => <code>{text}</code>;

export const DOC_PAGES: DocPage[] = [
  {
    slug: "",
    title: "Quick start",
    summary: "Point any OpenAI client at this server and make a first call.",
    Body: ({ samples, baseUrl }) => (
      <>
        <p>
          Tollgate speaks OpenAI&apos;s API. Any OpenAI SDK, the Vercel AI SDK, LangChain or plain curl works once its
          base URL is {c(baseUrl)} and its key is one of yours (keys start with {c("sk-gw-")}). Every answer reports its
          cost in US dollars in {c("usage.cost")}, and the call is paid from your prepaid balance.
        </p>
        <ol>
          <li>
            <Link href="/sign-up">Create an account</Link> and add credit on the <Link href="/billing">Billing</Link>{" "}
            page.
          </li>
          <li>
            Create a key on the <Link href="/keys">API keys</Link> page and keep it in an environment variable:{" "}
            {c("export TOLLGATE_API_KEY=sk-gw-…")}
          </li>
          <li>
            Pick a model on the <Link href="/models">Models</Link> page and call it:
          </li>
        </ol>
        {samples("quickstart")}
        <p>
          The built-in {c("tollgate/echo")} model answers offline by echoing your last message and is billed like any
          other, so you can watch metering work before calling a paid model.
        </p>
      </>
    ),
  },
  {
    slug: "chat-completions",
    title: "Chat completions",
    summary: "POST /v1/chat/completions: the request, the answer and how it is checked.",
    Body: ({ samples }) => (
      <>
        <p>
          {c("POST /v1/chat/completions")} takes OpenAI&apos;s Chat Completions request. Every documented field is
          checked before anything goes upstream: roles and content parts of {c("messages")}, {c("tools")},{" "}
          {c("tool_choice")}, {c("response_format")}, {c("temperature")} (0–2), {c("top_p")} (0–1), up to four{" "}
          {c("stop")} strings, penalties (−2–2) and more. A bad value is answered with 400 and {c("param")} naming the
          field, such as {c("messages[0].content[1].image_url.url")}.
        </p>
        <p>
          Fields the gateway does not know pass through to the provider, so new OpenAI parameters work at once.
          Parameters a provider refuses are left out rather than failing the call; the{" "}
          {c("x-tollgate-dropped-parameters")} response header lists them.
        </p>
        <p>
          The answer&apos;s {c("id")} is the generation id ({c("gen-…")}), {c("model")} the model&apos;s public id,{" "}
          {c("finish_reason")} one of {c("stop")}, {c("length")}, {c("tool_calls")}, {c("content_filter")} or{" "}
          {c("error")} (the provider&apos;s own word is in {c("native_finish_reason")}), and {c("usage")} carries{" "}
          {c("cost")} in USD with cached, cache-write and reasoning token counts. Response headers name the provider and
          channel that answered ({c("x-tollgate-provider")}, {c("x-tollgate-channel")}), the attempts it took (
          {c("x-tollgate-attempts")}) and the request id to quote to support ({c("x-request-id")}).
        </p>
        {samples("quickstart")}
      </>
    ),
  },
  {
    slug: "streaming",
    title: "Streaming",
    summary: "Server-sent events, usage on the last chunk, keep-alives.",
    Body: ({ samples }) => (
      <>
        <p>
          With {c('"stream": true')} the answer arrives as server-sent events, one {c("chat.completion.chunk")} per{" "}
          {c("data:")} line, ending with {c("data: [DONE]")}. Each choice&apos;s first delta carries{" "}
          {c('role: "assistant"')}. Usage and cost go out once, on the last chunk: without{" "}
          {c("stream_options.include_usage")} on the chunk with the {c("finish_reason")}; with it, as OpenAI does, on an
          extra chunk with {c("choices: []")} that ends the stream.
        </p>
        <p>
          While a provider is still thinking, the stream carries SSE comments ({c(": tollgate processing")}) so proxies
          do not cut it. If the provider fails after the stream began, the stream ends with an error event in
          OpenAI&apos;s shape; before the first token, the call fails over to the next provider instead. Closing the
          connection stops the upstream call at once: you pay for the text you received, and nothing if it was none.
        </p>
        {samples("streaming")}
      </>
    ),
  },
  {
    slug: "tools",
    title: "Tools",
    summary: "Function calling with any provider, in OpenAI's format.",
    Body: ({ samples }) => (
      <>
        <p>
          Describe functions in {c("tools")}; the model answers with {c("tool_calls")} and{" "}
          {c('finish_reason: "tool_calls"')}. Run the function, then send its result back as a {c('"tool"')} message
          with the call&apos;s {c("tool_call_id")}. The format is OpenAI&apos;s whatever the provider: Anthropic&apos;s
          and Gemini&apos;s tool use is translated both ways, and every tool call has a non-empty id. Filter the{" "}
          <Link href="/models?tools=1">models</Link> by &quot;Tools&quot; to see which support it.
        </p>
        {samples("tools")}
      </>
    ),
  },
  {
    slug: "structured-outputs",
    title: "Structured outputs",
    summary: "Answers that follow a JSON Schema.",
    Body: ({ samples }) => (
      <>
        <p>
          {c('response_format: {"type": "json_schema", ...}')} asks for an answer that follows your schema;{" "}
          {c('{"type": "json_object"}')} for any JSON. The content is a JSON string: parse it. Providers with their own
          mechanism (Anthropic, Gemini) get the schema in theirs. Filter the{" "}
          <Link href="/models?structured=1">models</Link> by &quot;Structured outputs&quot; to see which support it.
        </p>
        {samples("structured-outputs")}
      </>
    ),
  },
  {
    slug: "vision",
    title: "Images and files",
    summary: "Images, PDFs and audio in the prompt.",
    Body: ({ samples }) => (
      <>
        <p>
          Send images as {c("image_url")} content parts: an {c("https")} URL, or a {c("data:image/png;base64,…")} URL.
          For providers that need the bytes, the gateway fetches the image itself (public addresses only). PDFs go in{" "}
          {c("file")} parts and audio in {c("input_audio")}, base64-encoded. Images may carry a per-image fee: see the
          model&apos;s page. Filter the <Link href="/models?modality=image">models</Link> by input &quot;Images&quot;.
        </p>
        {samples("vision")}
      </>
    ),
  },
  {
    slug: "reasoning",
    title: "Reasoning",
    summary: "Thinking models: effort, budgets and the reasoning text.",
    Body: ({ samples }) => (
      <>
        <p>
          Reasoning models think before they answer. Ask for more or less with OpenRouter&apos;s {c("reasoning")} object
          ({c('{"effort": "low" | "medium" | "high"}')} or {c('{"max_tokens": N}')}) or OpenAI&apos;s{" "}
          {c("reasoning_effort")}; the gateway translates it for each provider (Anthropic&apos;s thinking budget,
          Gemini&apos;s thinking config). Where the provider returns its reasoning, the message carries it in{" "}
          {c("reasoning")}. Reasoning tokens are counted in {c("usage.completion_tokens_details.reasoning_tokens")} and
          billed at the model&apos;s reasoning price (its output price unless the page says otherwise).
        </p>
        {samples("reasoning")}
      </>
    ),
  },
  {
    slug: "routing",
    title: "Models, fallbacks and providers",
    summary: "Fallback models, provider order, and how a call fails over.",
    Body: ({ samples }) => (
      <>
        <p>
          A model may be served by several providers. A call tries them in the model&apos;s routing order (shown on its
          page) and moves on to the next when one fails before answering: a refused or timed-out connection, or a 408,
          429 or 5xx. An error caused by the request itself (400, 404, 413, 422) comes back at once. Failed attempts
          cost nothing; the call is billed at the prices of the provider that answered.
        </p>
        <ul>
          <li>
            {c("models")}: fallback models, tried in order after {c("model")} when it cannot answer. The answer&apos;s{" "}
            {c("model")} says which one did.
          </li>
          <li>
            {c("provider")}: {c("order")} (provider slugs to try first), {c("only")}, {c("ignore")},{" "}
            {c("allow_fallbacks")} (false: only the providers named in {c("order")}), and {c("sort")} ({c("price")},{" "}
            {c("throughput")} or {c("latency")}).
          </li>
        </ul>
        {samples("routing")}
      </>
    ),
  },
  {
    slug: "errors",
    title: "Errors",
    summary: "Statuses, error types and what to do about each.",
    Body: ({ samples }) => (
      <>
        <p>
          Errors use OpenAI&apos;s envelope, {c('{"error": {"message", "type", "param", "code"}}')}, so every OpenAI SDK
          raises its matching exception, plus a stable classification in {c("error.metadata.error_type")}.
        </p>
        <div className="table-wrap">
          <table className="table table--wrap table--stack">
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">type</th>
                <th scope="col">When, and what to do</th>
              </tr>
            </thead>
            <tbody>
              {[
                ["400", "invalid_request_error", "A malformed body or a bad field (param names it): fix the request."],
                ["401", "authentication_error", "Missing, unknown, revoked, disabled or expired key."],
                [
                  "402",
                  "payment_required",
                  "The balance cannot cover the call's worst case, or the key's spend limit is reached: add credit or raise the limit.",
                ],
                ["404", "not_found_error", "Unknown model (model_not_found) or URL."],
                ["408", "timeout_error", "The provider missed a time limit: retry."],
                ["413", "invalid_request_error", "The body is too large."],
                [
                  "429",
                  "rate_limit_error",
                  "A rate limit of your key or account, or the provider's: wait for Retry-After.",
                ],
                ["502", "upstream_error", "The provider failed or answered garbage: retry."],
                ["503", "service_unavailable", "Every provider of the model is cooling down: wait for Retry-After."],
              ].map(([status, type, when]) => (
                <tr key={`${status}-${type}`}>
                  <td data-label="Status">{status}</td>
                  <td data-label="type">
                    <code>{type}</code>
                  </td>
                  <td data-label="When">{when}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <p>
          Provider messages are passed on for errors the request caused and masked otherwise. Quote the response&apos;s{" "}
          {c("x-request-id")} to support.
        </p>
        {samples("errors")}
      </>
    ),
  },
  {
    slug: "rate-limits",
    title: "Rate limits",
    summary: "Per-key and per-account limits and their headers.",
    Body: ({ samples }) => (
      <>
        <p>
          A key, and an account across its keys, may be limited in requests per minute, tokens per minute and concurrent
          requests. Every answer to a request with a valid key carries OpenAI&apos;s headers for the tighter limit:{" "}
          {c("x-ratelimit-limit-requests")}, {c("x-ratelimit-remaining-requests")}, {c("x-ratelimit-reset-requests")} (a
          duration such as {c("6m0s")}), and the {c("-tokens")} variants when a token limit applies. A key without a
          limit says so with {c("2147483647")}. A refusal is a 429 with code {c("rate_limit_exceeded")}, a{" "}
          {c("Retry-After")} header in seconds, and a message naming the limit.
        </p>
        {samples("rate-limits")}
      </>
    ),
  },
  {
    slug: "usage-and-cost",
    title: "Usage and cost",
    summary: "What a call costs, and how to look it up later.",
    Body: ({ samples }) => (
      <>
        <p>
          Every answer&apos;s {c("usage")} has the prompt and completion tokens, cached and cache-write tokens,
          reasoning tokens and {c("cost")}: the US dollars taken from your balance for this call, exact to the
          nano-dollar, at the prices on the <Link href="/models">Models</Link> page. Before a call starts, its worst
          case (the prompt plus the output cap at the dearest provider&apos;s prices) is held against your balance; when
          it ends, only its cost is kept. A call that failed costs nothing. {c("GET /v1/generation?id=gen-…")} returns a
          call by its id: tokens, cost, latency, time to first token, provider and each attempt. The{" "}
          <Link href="/activity">Activity</Link> page shows them all.
        </p>
        {samples("usage-and-cost")}
      </>
    ),
  },
  {
    slug: "account",
    title: "Account endpoints",
    summary: "Balance, key, and spend per day from scripts.",
    Body: ({ samples }) => (
      <>
        <ul>
          <li>
            {c("GET /v1/credits")}: total credits, total usage, the exact balance, what calls in flight hold, and what
            new calls can use.
          </li>
          <li>
            {c("GET /v1/key")}: this key&apos;s name, prefix, spend per day, week and month, its spend limit and what is
            left of it, its allowed models and expiry.
          </li>
          <li>
            {c("GET /v1/activity")}: spend per UTC day, model and provider over the last 30 complete days, in
            OpenRouter&apos;s shape; {c("?date=YYYY-MM-DD")} and {c("?key=ID_OR_PREFIX")} narrow it.
          </li>
        </ul>
        {samples("account")}
      </>
    ),
  },
  {
    slug: "models",
    title: "Models and prices",
    summary: "Listing models and their prices from code.",
    Body: ({ samples }) => (
      <>
        <p>
          {c("GET /api/v1/models")} needs no key: every model with its prices (US dollars per token as exact decimals,
          and per million tokens), context length, modalities, supported parameters and providers, in OpenRouter&apos;s
          shape. {c("GET /v1/models")} lists the models your key may use, as OpenAI&apos;s API does;{" "}
          {c("GET /v1/models/{author}/{slug}/endpoints")} shows each provider of a model with its live uptime, latency
          and throughput; {c("GET /v1/prices")} is a price list per model and provider.
        </p>
        {samples("models")}
      </>
    ),
  },
  {
    slug: "messages",
    title: "Anthropic Messages",
    summary: "POST /v1/messages for Claude Code and Anthropic's SDKs.",
    Body: ({ samples, baseUrl }) => (
      <>
        <p>
          {c("POST /v1/messages")} speaks Anthropic&apos;s Messages API with any model of the catalog, so Claude Code
          and Anthropic&apos;s SDKs work unchanged: set their base URL to {c(baseUrl.replace(/\/v1$/, ""))} (they add{" "}
          {c("/v1")} themselves) and the key in {c("x-api-key")} or {c("Authorization: Bearer")}. For Claude Code:{" "}
          {c(`ANTHROPIC_BASE_URL=${baseUrl.replace(/\/v1$/, "")} ANTHROPIC_AUTH_TOKEN=$TOLLGATE_API_KEY claude`)}.
          Answers, streams and errors come back in Anthropic&apos;s shape, with {c("usage.cost")} added.
        </p>
        {samples("messages")}
      </>
    ),
  },
  {
    slug: "responses",
    title: "Responses API",
    summary: "POST /v1/responses for Codex and OpenAI's newer SDK calls.",
    Body: ({ samples }) => (
      <>
        <p>
          {c("POST /v1/responses")} takes OpenAI&apos;s Responses API (stateless: send the conversation each time), with
          any model of the catalog. It is how OpenAI&apos;s Codex CLI talks to a provider: point its base URL at this
          server&apos;s {c("/v1")}.
        </p>
        {samples("responses")}
      </>
    ),
  },
  {
    slug: "embeddings",
    title: "Embeddings",
    summary: "POST /v1/embeddings for search and RAG.",
    Body: ({ samples }) => (
      <>
        <p>
          {c("POST /v1/embeddings")} takes OpenAI&apos;s request: a string or a list in {c("input")}, optional{" "}
          {c("dimensions")} and {c("encoding_format")} ({c("float")} or {c("base64")}). Embedding models are listed with
          {c(' output_modalities: ["embeddings"]')} and billed per input token.
        </p>
        {samples("embeddings")}
      </>
    ),
  },
];

export function findDocPage(slug: string): DocPage | undefined {
  return DOC_PAGES.find((page) => page.slug === slug);
}

export const docHref = (page: DocPage) => (page.slug === "" ? "/docs" : `/docs/${page.slug}`);
