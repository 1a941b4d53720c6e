import { linkSync, mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { createCliContextFromContainer } from "~/cli/context";
import { sendToControlServer, startControlServer, type ControlServer } from "~/cli/control-socket";
import { runCli } from "~/cli/run-cli";
import { apiKeys, channels, models, users } from "~/server/db/schema";
import { API_KEY_PATTERN, hashApiKey } from "~/server/gateway/keys/api-key-format";
import { writeTestCatalog } from "./catalog-fixture";
import {
  createCliTestContext,
  expectOneLineError,
  lastLine,
  REPO_ROOT,
  runCliProcess,
  SLOW,
  type CliTestContext,
} from "./cli-harness";

/** Binds a socket, keeps a second name for it and closes the listener: what a crashed server leaves behind. */
async function makeStaleSocket(socketPath: string): Promise<void> {
  const server = createServer();
  const bound = `${socketPath}.bound`;
  await new Promise<void>((resolve) => server.listen(bound, resolve));
  linkSync(bound, socketPath);
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function rawExchange(socketPath: string, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (answer += chunk));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
    socket.write(payload);
  });
}

describe("the control socket", () => {
  let harness: CliTestContext;
  let server: ControlServer;
  let socketPath: string;
  let scratch: string;

  beforeAll(async () => {
    harness = await createCliTestContext("pglite");
    scratch = mkdtempSync(path.join(tmpdir(), "tollgate-socket-"));
    socketPath = path.join(harness.dataDir, "control.sock");
    // What src/main.ts does with its container.
    const serverContext = createCliContextFromContainer(harness.context);
    server = await startControlServer({ socketPath, run: (argv) => runCli(argv, serverContext) });
  }, SLOW);

  afterAll(async () => {
    await server.close();
    await harness.close();
    rmSync(scratch, { recursive: true, force: true });
  }, SLOW);

  it("listens on a socket only its owner may use", () => {
    const stats = statSync(socketPath);
    expect(stats.isSocket()).toBe(true);
    expect(stats.mode & 0o777).toBe(0o600);
  });

  it("runs user create and key create in the server's database", async () => {
    const created = await sendToControlServer(socketPath, [
      "user",
      "create",
      "--email",
      "sock@example.com",
      "--password",
      "socket-pass",
    ]);
    expect(created).toMatchObject({ exitCode: 0, stderr: "" });
    expect(created!.stdout).toMatch(/^Created user sock@example\.com/);
    const [user] = await harness.context.db.select().from(users).where(eq(users.email, "sock@example.com"));
    expect(user).toBeDefined();

    const key = await sendToControlServer(socketPath, [
      "key",
      "create",
      "--email",
      "sock@example.com",
      "--name",
      "over-socket",
    ]);
    expect(key?.exitCode).toBe(0);
    const plaintext = lastLine(key!.stdout);
    expect(plaintext).toMatch(API_KEY_PATTERN);
    const [row] = await harness.context.db
      .select()
      .from(apiKeys)
      .where(eq(apiKeys.hash, hashApiKey(plaintext)));
    expect(row).toMatchObject({ userId: user!.id, name: "over-socket" });
  });

  it("carries failures and --json back unchanged", async () => {
    const duplicate = await sendToControlServer(socketPath, [
      "user",
      "create",
      "--email",
      "sock@example.com",
      "--password",
      "socket-pass",
    ]);
    expect(expectOneLineError(duplicate!)).toBe("A user with email sock@example.com already exists");
    const usage = await sendToControlServer(socketPath, ["key", "create", "--email", "sock@example.com"]);
    expect(expectOneLineError(usage!, 2)).toMatch(/^--name is required/);
    const migrate = await sendToControlServer(socketPath, ["migrate", "--json"]);
    expect(JSON.parse(migrate!.stdout)).toEqual({ applied: true, by: "server" });
  });

  it("serves concurrent commands", async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map((index) =>
        sendToControlServer(socketPath, [
          "--json",
          "key",
          "create",
          "--email",
          "sock@example.com",
          "--name",
          `parallel-${index}`,
        ]),
      ),
    );
    expect(results.map((result) => result?.exitCode)).toEqual([0, 0, 0, 0]);
    const names = (await harness.context.db.select().from(apiKeys)).map((key) => key.name);
    expect(names).toEqual(expect.arrayContaining(["parallel-1", "parallel-2", "parallel-3", "parallel-4"]));
  });

  it("answers a malformed request with exit 2 and keeps serving", async () => {
    const answer = JSON.parse(await rawExchange(socketPath, "this is not json\n")) as unknown;
    expect(answer).toEqual({ exitCode: 2, stdout: "", stderr: "error: malformed control request\n" });
    const answer2 = JSON.parse(
      await rawExchange(socketPath, `${JSON.stringify({ argv: "user create" })}\n`),
    ) as unknown;
    expect(answer2).toMatchObject({ exitCode: 2 });
    expect((await sendToControlServer(socketPath, ["channel", "list"]))?.exitCode).toBe(0);
  });

  it(
    "the real CLI sends its command to the server instead of opening PGlite",
    async () => {
      const pgliteDir = path.join(scratch, "must-not-exist");
      const catalog = path.relative(REPO_ROOT, writeTestCatalog(scratch));
      const env = { DATA_DIR: harness.dataDir, PGLITE_DIR: pgliteDir, SOCKET_TEST_KEY: "sk-socket-upstream-55" };

      const key = await runCliProcess(
        ["key", "create", "--email", "sock@example.com", "--name", "cli-via-socket"],
        env,
      );
      expect(key.exitCode).toBe(0);
      const plaintext = lastLine(key.stdout);
      expect(
        (
          await harness.context.db
            .select()
            .from(apiKeys)
            .where(eq(apiKeys.hash, hashApiKey(plaintext)))
        )[0]?.name,
      ).toBe("cli-via-socket");

      // A relative path is resolved against the CLI's directory, not the server's.
      const imported = await runCliProcess(["catalog", "import", catalog, "--json"], env);
      expect(imported.exitCode).toBe(0);
      expect(JSON.parse(imported.stdout)).toMatchObject({ models: 3 });
      expect(await harness.context.db.select().from(models).where(eq(models.id, "acme/widget-1"))).toHaveLength(1);

      // --api-key-env is read from the CLI's environment; the server never sees the variable.
      const channel = await runCliProcess(
        [
          "channel",
          "add",
          "--kind",
          "openai",
          "--name",
          "socket-openai",
          "--base-url",
          "https://api.openai.com/v1",
          "--api-key-env",
          "SOCKET_TEST_KEY",
        ],
        env,
      );
      expect(channel.exitCode).toBe(0);
      expect(channel.stdout).toContain("serves 2 models");
      const [row] = await harness.context.db.select().from(channels).where(eq(channels.name, "socket-openai"));
      expect(harness.context.secretBox.decrypt(row!.encryptedSecret!)).toBe("sk-socket-upstream-55");

      const failure = await runCliProcess(
        ["user", "create", "--email", "sock@example.com", "--password", "socket-pass"],
        env,
      );
      expect(expectOneLineError(failure)).toBe("A user with email sock@example.com already exists");
      const unset = await runCliProcess(
        [
          "channel",
          "add",
          "--kind",
          "openai",
          "--name",
          "x",
          "--base-url",
          "https://x.example",
          "--api-key-env",
          "NOT_SET_ANYWHERE",
        ],
        env,
      );
      expect(expectOneLineError(unset, 2)).toBe("--api-key-env: environment variable NOT_SET_ANYWHERE is not set");

      expect(existsSync(pgliteDir)).toBe(false);
    },
    SLOW,
  );

  it("reports nobody listening as null: no socket file, or a stale one", async () => {
    expect(await sendToControlServer(path.join(scratch, "absent.sock"), ["migrate"])).toBeNull();
    const stale = path.join(scratch, "stale.sock");
    await makeStaleSocket(stale);
    expect(statSync(stale).isSocket()).toBe(true);
    expect(await sendToControlServer(stale, ["migrate"])).toBeNull();
  });

  it("replaces a stale socket, refuses a live one or a regular file", async () => {
    const stale = path.join(scratch, "replace.sock");
    await makeStaleSocket(stale);
    const replacement = await startControlServer({
      socketPath: stale,
      run: () => Promise.resolve({ exitCode: 0, stdout: "pong\n", stderr: "" }),
    });
    try {
      expect(await sendToControlServer(stale, ["anything"])).toEqual({ exitCode: 0, stdout: "pong\n", stderr: "" });
      await expect(
        startControlServer({ socketPath: stale, run: () => Promise.reject(new Error("unused")) }),
      ).rejects.toThrow(/already serving/);
    } finally {
      await replacement.close();
    }
    expect(existsSync(stale)).toBe(false);
    expect(await sendToControlServer(stale, ["anything"])).toBeNull();

    const regular = path.join(scratch, "regular.sock");
    writeFileSync(regular, "not a socket");
    await expect(
      startControlServer({ socketPath: regular, run: () => Promise.reject(new Error("unused")) }),
    ).rejects.toThrow(/is not a socket/);
  });

  it("turns a throwing run() into a one-line failure", async () => {
    const socket = path.join(scratch, "throws.sock");
    const throwing = await startControlServer({
      socketPath: socket,
      run: () => Promise.reject(new Error("boom\n    at somewhere")),
    });
    try {
      expect(await sendToControlServer(socket, ["x"])).toEqual({ exitCode: 1, stdout: "", stderr: "error: boom\n" });
    } finally {
      await throwing.close();
    }
  });
});
