import { ZodError } from "zod";
import type { Env } from "~/env";
import { UsageError, type CliResult } from "./command";
import type { Invoker } from "./invoker";
import { commands } from "./commands";
import type { CliContext } from "./context";
import { formatCommandLine, parseCommandLine, type ParsedCommandLine } from "./parse-args";
import { toJson } from "./format";

/** One line, whatever was thrown: no stack traces, and never the SQL and parameters of a failed query. */
export function describeError(error: unknown): string {
  let current = error;
  // Drizzle wraps driver errors as "Failed query: <sql> params: <values>", which may include secrets or hashes.
  while (current instanceof Error && current.message.startsWith("Failed query:") && current.cause !== undefined) {
    current = current.cause;
  }
  let message: string;
  if (current instanceof ZodError) {
    const issue = current.issues[0];
    message =
      issue === undefined
        ? "invalid input"
        : `${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}${issue.message}`;
  } else if (current instanceof Error) {
    message = current.message || current.name;
  } else {
    message = String(current);
  }
  return message.replace(/\s*\n\s*/g, " ").trim() || "unknown error";
}

function exitCodeFor(error: unknown): number {
  return error instanceof UsageError ? 2 : 1;
}

function failure(error: unknown): CliResult {
  return { exitCode: exitCodeFor(error), stdout: "", stderr: `error: ${describeError(error)}\n` };
}

function helpResult(parsed: Extract<ParsedCommandLine, { kind: "help" }>): CliResult {
  return { exitCode: 0, stdout: `${parsed.json ? toJson({ usage: parsed.text }) : parsed.text}\n`, stderr: "" };
}

/**
 * Runs one command line against a database and returns what it printed, instead of printing it: the process entry
 * writes the result out, and a server answers the control socket with it. Never throws.
 */
export async function runCli(argv: readonly string[], context: CliContext): Promise<CliResult> {
  try {
    const parsed = parseCommandLine(argv, commands);
    if (parsed.kind === "help") return helpResult(parsed);
    const input = parsed.command.localize?.(parsed.input, context.invoker ?? null) ?? parsed.input;
    const result = await parsed.command.run(input, context);
    return { exitCode: 0, stdout: `${parsed.json ? toJson(result.json) : result.text}\n`, stderr: "" };
  } catch (error) {
    return failure(error);
  }
}

/** The answer for help and malformed command lines, which need no database; null when the command needs one. */
export function answerWithoutDatabase(argv: readonly string[]): CliResult | null {
  try {
    const parsed = parseCommandLine(argv, commands);
    return parsed.kind === "help" ? helpResult(parsed) : null;
  } catch (error) {
    return failure(error);
  }
}

/**
 * Runs a command that must not find its database open (`restore`) in this process, before anything opens it; null when
 * the command line is not one. Never throws.
 */
export async function runUnopened(argv: readonly string[], env: Env, invoker: Invoker): Promise<CliResult | null> {
  try {
    const parsed = parseCommandLine(argv, commands);
    if (parsed.kind === "help" || parsed.command.runUnopened === undefined) return null;
    const input = parsed.command.localize?.(parsed.input, invoker) ?? parsed.input;
    const result = await parsed.command.runUnopened(input, env);
    return { exitCode: 0, stdout: `${parsed.json ? toJson(result.json) : result.text}\n`, stderr: "" };
  } catch (error) {
    return failure(error);
  }
}

/**
 * Rewrites a command line so another process can run it: environment variables it names are replaced by their
 * values and relative paths made absolute. Returns the CLI's failure instead when that is not possible.
 */
export function localizeArgv(argv: readonly string[], invoker: Invoker): { argv: string[] } | { failure: CliResult } {
  try {
    const parsed = parseCommandLine(argv, commands);
    if (parsed.kind === "help") return { argv: [...argv] };
    const input = parsed.command.localize?.(parsed.input, invoker) ?? parsed.input;
    return { argv: formatCommandLine(parsed.command, input, parsed.json) };
  } catch (error) {
    return { failure: failure(error) };
  }
}

// The server builds its socket handler from these two; one import site for both.
export { createCliContextFromContainer } from "./context";
