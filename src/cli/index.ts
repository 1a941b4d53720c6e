import { env as readProcessEnv, loadDotEnv } from "~/env";
import { createJsonLogger } from "~/server/gateway/logger";
import { cliActor } from "~/server/services/audit-actor";
import type { CliResult } from "./command";
import type { Invoker } from "./invoker";
import { controlSocketPath, sendToControlServer } from "./control-socket";
import { answerWithoutDatabase, describeError, localizeArgv, runCli, runUnopened } from "./run-cli";

/**
 * The process entry of `npm run tollgate -- <command>`. Help and malformed command lines are answered without a
 * database. With DATABASE_URL the CLI uses PostgreSQL directly; without it, a server running on the PGlite
 * directory runs the command (PGlite admits one process), and only when none answers does the CLI open it itself.
 */
async function main(argv: string[]): Promise<CliResult> {
  const early = answerWithoutDatabase(argv);
  if (early !== null) return early;

  // Same configuration as the server, which also reads .env from the working directory.
  loadDotEnv();
  const env = readProcessEnv();
  const logger = createJsonLogger("warn");
  // The CLI's working directory and environment, for --api-key-env and relative paths; variables are read only
  // when a command names one.
  const invoker: Invoker = { cwd: process.cwd(), variables: process.env };

  if (env.DATABASE_URL === undefined) {
    const localized = localizeArgv(argv, invoker);
    if ("failure" in localized) return localized.failure;
    const answer = await sendToControlServer(controlSocketPath(env), localized.argv, cliActor(invoker.variables).label);
    if (answer !== null) return answer;
  }

  // A command that replaces the database (restore) runs before anything opens it.
  const unopened = await runUnopened(argv, env, invoker);
  if (unopened !== null) return unopened;

  // Run from source, loaded only now: the database drivers are the slowest part of starting, and the socket path
  // needs none. (The bundle, one file, has them loaded at its start, in a fraction of that time.)
  const { openCliContext } = await import("./context");
  const local = await openCliContext(env, logger, invoker);
  try {
    return await runCli(argv, local.context);
  } finally {
    await local.close();
  }
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return text === "" ? Promise.resolve() : new Promise((resolve) => stream.write(text, () => resolve()));
}

const result = await main(process.argv.slice(2)).catch((error: unknown): CliResult => ({
  exitCode: 1,
  stdout: "",
  stderr: `error: ${describeError(error)}\n`,
}));
await write(process.stdout, result.stdout);
await write(process.stderr, result.stderr);
// Exit explicitly: a driver's idle timer must not keep a finished command waiting.
process.exit(result.exitCode);
