import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { UsageError, type CommandInput, type CommandSpec } from "./command";
import { renderCommandHelp, renderGroupHelp, renderProgramHelp } from "./help";

export type ParsedCommandLine =
  | { kind: "help"; text: string; json: boolean }
  | { kind: "command"; command: CommandSpec; input: CommandInput; json: boolean };

const HELP_FLAGS = new Set(["--help", "-h"]);
const GLOBAL_FLAGS = new Set([...HELP_FLAGS, "--json"]);
const GLOBAL_OPTIONS: ParseArgsOptionsConfig = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};
/** A value such as `-5` or `-0.25`, which parseArgs would otherwise take for an option. */
const NEGATIVE_NUMBER = /^-\d+(\.\d+)?$/;

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.every((word, index) => path[index] === word);
}

/** The command words at the front of argv (global flags may come before or between them). */
function findCommandWords(
  argv: readonly string[],
  commands: readonly CommandSpec[],
): { words: string[]; indexes: Set<number>; next: string | undefined } {
  const words: string[] = [];
  const indexes = new Set<number>();
  for (const [index, token] of argv.entries()) {
    if (GLOBAL_FLAGS.has(token)) continue;
    if (token.startsWith("-") || !commands.some((command) => startsWith(command.path, [...words, token]))) {
      return { words, indexes, next: token };
    }
    words.push(token);
    indexes.add(index);
    if (commands.some((command) => command.path.length === words.length && startsWith(command.path, words))) {
      return { words, indexes, next: undefined };
    }
  }
  return { words, indexes, next: undefined };
}

/** `--usd -5` → `--usd=-5`, so negative amounts work without the `=` form. */
function attachNegativeValues(args: readonly string[], command: CommandSpec): string[] {
  const result: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const token = args[index]!;
    const next = args[index + 1];
    const name = token.startsWith("--") ? token.slice(2) : undefined;
    if (
      name !== undefined &&
      command.options[name]?.type === "string" &&
      next !== undefined &&
      NEGATIVE_NUMBER.test(next)
    ) {
      result.push(`${token}=${next}`);
      index++;
    } else {
      result.push(token);
    }
  }
  return result;
}

function readOptions(
  args: readonly string[],
  command: CommandSpec,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  const options: ParseArgsOptionsConfig = { ...GLOBAL_OPTIONS };
  for (const [name, option] of Object.entries(command.options)) options[name] = { type: option.type };
  try {
    const parsed = parseArgs({
      args: attachNegativeValues(args, command),
      options,
      strict: true,
      allowPositionals: true,
    });
    const values: Record<string, string | boolean | undefined> = {};
    for (const [name, value] of Object.entries(parsed.values)) {
      if (typeof value === "string" || typeof value === "boolean") values[name] = value;
    }
    return { values, positionals: parsed.positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(`${message} (see "tollgate ${command.path.join(" ")} --help")`);
  }
}

/**
 * Turns argv into a command and its input, or into help text. `--json` and `--help` are accepted anywhere.
 * Throws UsageError for anything malformed: unknown commands or options, missing required options or arguments.
 */
export function parseCommandLine(argv: readonly string[], commands: readonly CommandSpec[]): ParsedCommandLine {
  const beforeTerminator = argv.includes("--") ? argv.slice(0, argv.indexOf("--")) : argv;
  const helpWanted = beforeTerminator.some((token) => HELP_FLAGS.has(token));
  const jsonWanted = beforeTerminator.includes("--json");
  const { words, indexes, next } = findCommandWords(argv, commands);
  const command = commands.find(
    (candidate) => candidate.path.length === words.length && startsWith(candidate.path, words),
  );

  if (command === undefined) {
    if (helpWanted) {
      const text =
        words.length === 0
          ? renderProgramHelp(commands)
          : renderGroupHelp(
              words.join(" "),
              commands.filter((candidate) => startsWith(candidate.path, words)),
            );
      return { kind: "help", text, json: jsonWanted };
    }
    if (next !== undefined && !next.startsWith("-"))
      throw new UsageError(`unknown command "${[...words, next].join(" ")}" (see "tollgate --help")`);
    if (words.length === 0) throw new UsageError('missing command (see "tollgate --help")');
    const choices = commands
      .filter((candidate) => startsWith(candidate.path, words))
      .map((candidate) => candidate.path[words.length]);
    throw new UsageError(
      `"${words.join(" ")}" needs a subcommand: ${choices.join(", ")} (see "tollgate ${words.join(" ")} --help")`,
    );
  }
  if (helpWanted) return { kind: "help", text: renderCommandHelp(command), json: jsonWanted };

  const { values, positionals } = readOptions(
    argv.filter((_token, index) => !indexes.has(index)),
    command,
  );
  const json = values.json === true;
  delete values.json;
  delete values.help;

  const expected = command.positionals ?? [];
  const hint = ` (see "tollgate ${command.path.join(" ")} --help")`;
  if (positionals.length < expected.length)
    throw new UsageError(`missing ${expected[positionals.length]!.name}${hint}`);
  if (positionals.length > expected.length)
    throw new UsageError(`unexpected argument "${positionals[expected.length]!}"${hint}`);
  for (const [name, option] of Object.entries(command.options)) {
    if (option.required === true && values[name] === undefined) throw new UsageError(`--${name} is required${hint}`);
  }
  return { kind: "command", command, input: { options: values, positionals }, json };
}

/** The inverse of parsing: argv that parses back to the same command and input (used to forward a command). */
export function formatCommandLine(command: CommandSpec, input: CommandInput, json: boolean): string[] {
  const argv = [...command.path];
  for (const [name, value] of Object.entries(input.options)) {
    if (value === true) argv.push(`--${name}`);
    else if (typeof value === "string") argv.push(`--${name}=${value}`);
  }
  if (json) argv.push("--json");
  if (input.positionals.length > 0) argv.push("--", ...input.positionals);
  return argv;
}
