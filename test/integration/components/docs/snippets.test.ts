import { TEST_ACTOR } from "../../../helpers/audit";
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOC_SNIPPETS, type SnippetContext, type SnippetLanguage, type SnippetTopic } from "~/components/docs/snippets";
import { addChannel } from "~/server/services/channels";
import { startGatewayHarness, type GatewayHarness } from "../../../helpers/gateway-harness";
import { REPO_ROOT } from "../../../helpers/gateway-process";

/*
 * Every code sample of the docs, run as a reader would run it: the JavaScript ones as ES modules with Node (the SDKs
 * from this project's node_modules), the curl ones with bash and curl, against the production entry and the demo
 * model, with a real key in TOLLGATE_API_KEY. The Python ones are parsed (no Python SDK here). A sample that fails,
 * or prints other than what it is for, fails the docs.
 */

const run = promisify(execFile);

/** What each topic's samples must print (the demo model echoes the last user message). */
const EXPECTED_OUTPUT: Record<SnippetTopic, RegExp> = {
  quickstart: /You said: Say hello in five words\./,
  // Streamed, the words arrive chunk by chunk: curl prints the events as they are.
  streaming: /You said: Count to ten\.|"content":"[^"]+"[\s\S]*data: \[DONE\]/,
  tools: /You said: What is the weather in Paris\?/,
  "structured-outputs": /You said: Name a city and its country\./,
  vision: /You said: What is in this picture\?/,
  reasoning: /You said: Is 1001 prime\?/,
  routing: /You said: Hello!|tollgate\/echo tollgate 1/,
  "usage-and-cost": /"?cost"?:/,
  account: /"total_credits"[\s\S]*"allowed_models"[\s\S]*"data"/,
  models: /tollgate\/echo/,
  errors: /model_not_found/,
  "rate-limits": /x-ratelimit-limit-requests: /i,
  messages: /You said: Hello!/,
  responses: /You said: Say hello in five words\./,
  embeddings: /"embedding"|^2 8 /m,
};

const EMBEDDING_DIMENSIONS = 8;

let harness: GatewayHarness;
let apiKey: string;
let embeddingUpstream: Server;
let context: SnippetContext;
const scratch = path.join(REPO_ROOT, "test-results", `doc-snippets-${process.pid}`);

/** An OpenAI-shaped embeddings upstream: the demo model makes no vectors. */
async function startEmbeddingUpstream(): Promise<string> {
  embeddingUpstream = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => {
      const body = JSON.parse(Buffer.concat(parts).toString("utf8")) as { input: string[]; model: string };
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          object: "list",
          data: body.input.map((_, index) => ({
            object: "embedding",
            index,
            embedding: Array.from({ length: EMBEDDING_DIMENSIONS }, (__, dimension) => (index + dimension) / 10),
          })),
          model: body.model,
          usage: { prompt_tokens: 4, total_tokens: 4 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => embeddingUpstream.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(embeddingUpstream.address() as AddressInfo).port}/v1`;
}

beforeAll(async () => {
  harness = await startGatewayHarness();
  ({ apiKey } = await harness.createFundedUser("5"));
  const { db, secretBox, changes } = harness.container;
  await addChannel(
    db,
    secretBox,
    changes,
    {
      kind: "openai",
      name: "docs-embeddings",
      baseUrl: await startEmbeddingUpstream(),
      apiKey: "sk-docs",
      models: [{ modelId: "openai/text-embedding-3-small", upstreamModel: "text-embedding-3-small" }],
    },
    TEST_ACTOR,
  );
  context = {
    baseUrl: harness.baseUrl,
    model: "tollgate/echo",
    fallbackModel: "tollgate/echo",
    provider: "tollgate",
    embeddingModel: "openai/text-embedding-3-small",
  };
  mkdirSync(scratch, { recursive: true });
});

afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  embeddingUpstream?.close();
  await harness?.stop();
});

const environment = () => ({ ...process.env, TOLLGATE_API_KEY: apiKey });

async function runJavaScript(name: string, code: string): Promise<string> {
  // Inside the project, so that `import "openai"` finds its node_modules as a reader's project would.
  const file = path.join(scratch, `${name}.mjs`);
  writeFileSync(file, code);
  const { stdout } = await run(process.execPath, [file], { env: environment(), timeout: 60_000 });
  return stdout;
}

async function runCurl(code: string): Promise<string> {
  const { stdout } = await run("bash", ["-euo", "pipefail", "-c", code], { env: environment(), timeout: 60_000 });
  return stdout;
}

async function pythonParses(code: string): Promise<void> {
  const parser = run("python3", ["-c", "import ast, sys; ast.parse(sys.stdin.read())"], { timeout: 30_000 });
  parser.child.stdin?.end(code);
  await parser;
}

const hasPython = await run("python3", ["--version"]).then(
  () => true,
  () => false,
);

const cases = (Object.entries(DOC_SNIPPETS) as [SnippetTopic, Partial<Record<SnippetLanguage, unknown>>][]).flatMap(
  ([topic, snippets]) => (Object.keys(snippets) as SnippetLanguage[]).map((language) => ({ topic, language })),
);

describe("the docs' code samples", () => {
  it("cover every topic with an expectation, and every topic has a curl or JavaScript sample", () => {
    for (const [topic, snippets] of Object.entries(DOC_SNIPPETS)) {
      expect(EXPECTED_OUTPUT[topic as SnippetTopic], topic).toBeInstanceOf(RegExp);
      expect(
        Object.keys(snippets).some((language) => language !== "python"),
        topic,
      ).toBe(true);
    }
  });

  it.each(cases)("$topic in $language", async ({ topic, language }) => {
    const snippets: Partial<Record<SnippetLanguage, (context: SnippetContext) => string>> = DOC_SNIPPETS[topic];
    const code = snippets[language]!(context);
    expect(code).not.toContain(apiKey);
    if (language === "python") {
      if (!hasPython) return;
      await pythonParses(code);
      return;
    }
    const output = language === "curl" ? await runCurl(code) : await runJavaScript(`${topic}-${language}`, code);
    expect(output).toMatch(EXPECTED_OUTPUT[topic]);
  });
});
