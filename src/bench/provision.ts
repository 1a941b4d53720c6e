/**
 * Sets up what the load needs through the operator CLI, as an operator would: a user with $1000 of credit, an API
 * key, and a channel that routes a catalog model to the mock upstream. The CLI finds the server's database itself
 * (the control socket for PGlite, DATABASE_URL for PostgreSQL).
 */
import { randomBytes } from "node:crypto";
import { runNode } from "./children";
import { MOCK_API_KEY } from "./mock-bodies";

export const BENCH_MODEL = "openai/gpt-4.1-mini";
const BENCH_EMAIL = "bench@bench.local";
const KEY_FORMAT = /^sk-gw-[0-9a-f]{32}$/;

async function cli(args: string[], env: NodeJS.ProcessEnv, cpu: number | null): Promise<string> {
  const result = await runNode({
    name: `tollgate ${args.slice(0, 2).join(" ")}`,
    script: "src/cli/index.ts",
    args,
    env,
    cpu,
    timeoutMs: 120_000,
  });
  if (result.exitCode !== 0) {
    const shown = args.map((arg) => (arg.startsWith("--password=") ? "--password=***" : arg)).join(" ");
    throw new Error(
      `CLI command failed (exit ${result.exitCode}${result.timedOut ? ", timed out" : ""}): tollgate ${shown}\n${result.stderr || result.stdout}`,
    );
  }
  return result.stdout;
}

export interface Provisioned {
  apiKey: string;
  email: string;
  model: string;
  log: string[];
}

export async function provision(options: {
  env: NodeJS.ProcessEnv;
  mockOrigin: string;
  cpu: number | null;
}): Promise<Provisioned> {
  const { env, cpu } = options;
  const log: string[] = [];
  const run = async (args: string[]) => {
    const stdout = await cli(args, env, cpu);
    log.push(stdout.trim().split("\n")[0] ?? "");
    return stdout;
  };

  await run([
    "user",
    "create",
    "--email",
    BENCH_EMAIL,
    // Joined to its option: a random password may start with "-", which would read as an option of its own.
    `--password=${randomBytes(18).toString("base64url")}`,
    "--name",
    "Bench",
  ]);
  await run(["credits", "add", "--email", BENCH_EMAIL, "--usd", "1000", "--note", "npm run bench"]);
  const keyOutput = await run(["key", "create", "--email", BENCH_EMAIL, "--name", "bench"]);
  const apiKey = keyOutput.trim().split("\n").at(-1)?.trim() ?? "";
  if (!KEY_FORMAT.test(apiKey)) {
    throw new Error(`key create did not end with a key on its last line; it printed:\n${keyOutput}`);
  }
  await run([
    "channel",
    "add",
    "--kind",
    "openai-compatible",
    "--name",
    "bench",
    "--base-url",
    `${options.mockOrigin}/v1`,
    "--api-key",
    MOCK_API_KEY,
    "--models",
    BENCH_MODEL,
  ]);
  return { apiKey, email: BENCH_EMAIL, model: BENCH_MODEL, log };
}
