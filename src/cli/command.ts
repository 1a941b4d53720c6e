import type { Env } from "~/env";
import type { CliContext } from "./context";
import type { Invoker } from "./invoker";

/** What one CLI invocation produced; the process entry and the control socket both carry exactly this. */
export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface OptionSpec {
  type: "string" | "boolean";
  description: string;
  /** Shown in help after the option name, e.g. `--email EMAIL`. */
  valueName?: string;
  required?: boolean;
}

export interface PositionalSpec {
  name: string;
  description: string;
}

export interface CommandInput {
  options: Readonly<Record<string, string | boolean | undefined>>;
  positionals: readonly string[];
}

/** A command answers twice: as text for people and as a value for `--json`. */
export interface CommandResult {
  text: string;
  json: unknown;
}

export interface CommandSpec {
  /** The words that name the command: `["key", "create"]`, or `["migrate"]`. */
  path: readonly string[];
  summary: string;
  options: Readonly<Record<string, OptionSpec>>;
  /** Exactly these positionals are required. */
  positionals?: readonly PositionalSpec[];
  /**
   * Replaces references to the invoking process (environment variables, relative paths) with their values, so that
   * the command can run in another process: the server behind the control socket. `invoker` is null when the command
   * already runs somewhere else and there is nothing left to resolve against.
   */
  localize?(input: CommandInput, invoker: Invoker | null): CommandInput;
  run(input: CommandInput, context: CliContext): Promise<CommandResult>;
  /**
   * Runs instead of `run`, in the CLI process before any database is opened, when no server answers the control
   * socket: for a command that replaces the database itself (`restore`). Its `run` then only answers a server, which
   * has the database open.
   */
  runUnopened?(input: CommandInput, env: Env): Promise<CommandResult>;
}

/** A wrong command line: exit code 2, as for most Unix tools. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A command that was understood but could not be done: exit code 1. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommandError";
  }
}

export function optionString(input: CommandInput, name: string): string | undefined {
  const value = input.options[name];
  return typeof value === "string" ? value : undefined;
}

/** For options the parser already checked as required. */
export function requiredString(input: CommandInput, name: string): string {
  const value = optionString(input, name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

export function optionFlag(input: CommandInput, name: string): boolean {
  return input.options[name] === true;
}

/** A free-text option, trimmed; null when absent or blank. */
export function optionText(input: CommandInput, name: string): string | null {
  const value = optionString(input, name)?.trim();
  return value === undefined || value === "" ? null : value;
}
