import { describe, expect, it } from "vitest";
import { z } from "zod";
import { UsageError, type CommandSpec } from "~/cli/command";
import { commands } from "~/cli/commands";
import { formatCommandLine, parseCommandLine } from "~/cli/parse-args";
import { answerWithoutDatabase, describeError, localizeArgv } from "~/cli/run-cli";

const parse = (...argv: string[]) => parseCommandLine(argv, commands);
const parsedCommand = (...argv: string[]) => {
  const parsed = parse(...argv);
  if (parsed.kind !== "command") throw new Error(`expected a command, got ${parsed.kind}`);
  return parsed;
};

describe("parseCommandLine", () => {
  it("finds the command and its options, with --json anywhere", () => {
    const parsed = parsedCommand("--json", "credits", "add", "--email", "a@example.com", "--usd=5");
    expect(parsed.command.path).toEqual(["credits", "add"]);
    expect(parsed.json).toBe(true);
    expect(parsed.input).toEqual({ options: { email: "a@example.com", usd: "5" }, positionals: [] });
    expect(parsedCommand("key", "list", "--email", "a@example.com").json).toBe(false);
    expect(parsedCommand("key", "list", "--email", "a@example.com", "--json").json).toBe(true);
  });

  it("takes a negative amount as a value, with or without =", () => {
    expect(parsedCommand("credits", "add", "--email", "a@example.com", "--usd", "-1.5").input.options.usd).toBe("-1.5");
    expect(parsedCommand("credits", "add", "--email", "a@example.com", "--usd=-2").input.options.usd).toBe("-2");
    expect(
      parsedCommand("channel", "add", "--kind", "openai", "--name", "n", "--base-url", "http://x", "--priority", "-3")
        .input.options.priority,
    ).toBe("-3");
  });

  it("returns help for the program, a group or a command", () => {
    expect(parse("--help")).toMatchObject({
      kind: "help",
      text: expect.stringMatching(/^Usage: tollgate <command>/) as unknown,
    });
    expect(parse("key", "-h")).toMatchObject({ kind: "help", text: expect.stringContaining("key revoke") as unknown });
    const help = parse("credits", "add", "--help", "--json");
    expect(help).toMatchObject({ kind: "help", json: true });
    expect(help.kind === "help" && help.text).toContain("--usd AMOUNT");
  });

  it("rejects malformed command lines with usage errors", () => {
    const messageOf = (...argv: string[]) => {
      try {
        parse(...argv);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error("expected a usage error");
    };
    expect(messageOf()).toMatch(/^missing command/);
    expect(messageOf("--email", "x")).toMatch(/^missing command/);
    expect(messageOf("users", "create")).toMatch(/^unknown command "users"/);
    expect(messageOf("user", "delete")).toMatch(/^unknown command "user delete"/);
    expect(messageOf("channel")).toMatch(
      /^"channel" needs a subcommand: add, edit, enable, disable, test, list, stats/,
    );
    expect(messageOf("key", "list")).toMatch(/^--email is required/);
    expect(messageOf("key", "list", "--email", "a@b.c", "--colour")).toMatch(/--colour/);
    expect(messageOf("key", "list", "--email", "a@b.c", "extra")).toMatch(/^unexpected argument "extra"/);
    expect(messageOf("catalog", "import")).toMatch(/^missing FILE/);
    expect(messageOf("key", "create", "--email")).toMatch(/--email/);
  });
});

describe("formatCommandLine and localizeArgv", () => {
  it("round-trips through the parser, positionals and awkward values included", () => {
    const parsed = parsedCommand("key", "revoke", "--email", "a@example.com", "--json", "--", "-starts-with-dash");
    const again = parseCommandLine(formatCommandLine(parsed.command, parsed.input, parsed.json), commands);
    expect(again).toEqual(parsed);
  });

  it("inlines --api-key-env from the invoker and makes catalog paths absolute", () => {
    const invoker = { cwd: "/home/operator", variables: { UPSTREAM: " sk-secret " } };
    const channel = localizeArgv(
      ["channel", "add", "--kind", "openai", "--name", "n", "--base-url", "http://x", "--api-key-env", "UPSTREAM"],
      invoker,
    );
    expect(channel).toEqual({
      argv: ["channel", "add", "--kind=openai", "--name=n", "--base-url=http://x", "--api-key=sk-secret"],
    });
    expect(localizeArgv(["catalog", "import", "models.json", "--json"], invoker)).toEqual({
      argv: ["catalog", "import", "--json", "--", "/home/operator/models.json"],
    });
  });

  it("fails like the CLI when the variable is missing or both key options are given", () => {
    const invoker = { cwd: "/", variables: {} };
    const base = ["channel", "add", "--kind", "openai", "--name", "n", "--base-url", "http://x"];
    expect(localizeArgv([...base, "--api-key-env", "MISSING"], invoker)).toEqual({
      failure: { exitCode: 2, stdout: "", stderr: "error: --api-key-env: environment variable MISSING is not set\n" },
    });
    expect(localizeArgv([...base, "--api-key-env", "MISSING", "--api-key", "k"], invoker)).toMatchObject({
      failure: { exitCode: 2 },
    });
  });
});

describe("answerWithoutDatabase", () => {
  it("answers help and usage errors, and defers real commands", () => {
    expect(answerWithoutDatabase(["--help"])).toMatchObject({ exitCode: 0, stderr: "" });
    expect(answerWithoutDatabase(["nope"])).toMatchObject({ exitCode: 2, stdout: "" });
    expect(answerWithoutDatabase(["channel", "list"])).toBeNull();
  });
});

describe("describeError", () => {
  it("is one line and never shows a failed query's SQL or parameters", () => {
    const cause = new Error('duplicate key value violates unique constraint "channels_name_unique"');
    const wrapped = new Error("Failed query: insert into channels values ($1)\nparams: v1.secret-ciphertext", {
      cause,
    });
    expect(describeError(wrapped)).toBe('duplicate key value violates unique constraint "channels_name_unique"');
    expect(describeError(new Error("first\n  second"))).toBe("first second");
    expect(describeError("plain")).toBe("plain");
    const zodError = z.object({ email: z.email() }).safeParse({ email: "x" }).error;
    expect(describeError(zodError)).toMatch(/^email: /);
  });
});

describe("every command", () => {
  it("has help that names all its options", () => {
    for (const command of commands satisfies readonly CommandSpec[]) {
      const help = parseCommandLine([...command.path, "--help"], commands);
      expect(help.kind).toBe("help");
      for (const name of Object.keys(command.options)) expect(help.kind === "help" && help.text).toContain(`--${name}`);
    }
  });
});
