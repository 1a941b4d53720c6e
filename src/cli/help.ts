import type { CommandSpec } from "./command";

const PROGRAM = "tollgate";

function columns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}

const GLOBAL_OPTIONS: [string, string][] = [
  ["--json", "Print machine-readable JSON on stdout instead of text"],
  ["-h, --help", "Show help"],
];

const FOOTER = [
  "",
  "Global options:",
  ...columns(GLOBAL_OPTIONS),
  "",
  "Exit status: 0 on success, 1 when the command failed, 2 when the command line was wrong.",
  'Errors are one line on stderr, starting with "error: ".',
];

export function usageLine(command: CommandSpec): string {
  const parts = [PROGRAM, ...command.path];
  for (const [name, option] of Object.entries(command.options)) {
    const text = option.type === "string" ? `--${name} ${option.valueName ?? "VALUE"}` : `--${name}`;
    parts.push(option.required === true ? text : `[${text}]`);
  }
  for (const positional of command.positionals ?? []) parts.push(positional.name);
  return parts.join(" ");
}

export function renderProgramHelp(commands: readonly CommandSpec[]): string {
  return [
    `Usage: ${PROGRAM} <command> [options]`,
    "",
    "Operator commands for a Tollgate gateway. With DATABASE_URL set they use that PostgreSQL database. Otherwise",
    "the database is the PGlite directory PGLITE_DIR: when a Tollgate server is running on it, commands run inside",
    "that server through DATA_DIR/control.sock; when none is, the CLI opens the directory itself.",
    "",
    "Commands:",
    ...columns(commands.map((command) => [command.path.join(" "), command.summary])),
    "",
    `Run "${PROGRAM} <command> --help" for a command's options.`,
    ...FOOTER,
  ].join("\n");
}

export function renderGroupHelp(group: string, commands: readonly CommandSpec[]): string {
  return [
    `Usage: ${PROGRAM} ${group} <subcommand> [options]`,
    "",
    "Subcommands:",
    ...columns(commands.map((command) => [command.path.join(" "), command.summary])),
    ...FOOTER,
  ].join("\n");
}

export function renderCommandHelp(command: CommandSpec): string {
  const optionRows = Object.entries(command.options).map(([name, option]): [string, string] => [
    option.type === "string" ? `--${name} ${option.valueName ?? "VALUE"}` : `--${name}`,
    option.description,
  ]);
  const positionalRows = (command.positionals ?? []).map((positional): [string, string] => [
    positional.name,
    positional.description,
  ]);
  return [
    `Usage: ${usageLine(command)}`,
    "",
    command.summary,
    ...(positionalRows.length > 0 ? ["", "Arguments:", ...columns(positionalRows)] : []),
    ...(optionRows.length > 0 ? ["", "Options:", ...columns(optionRows)] : []),
    ...FOOTER,
  ].join("\n");
}
