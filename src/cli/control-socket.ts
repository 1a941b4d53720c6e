import { chmod, lstat, mkdir, unlink } from "node:fs/promises";
import { connect, createServer, type Socket } from "node:net";
import path from "node:path";
import { z } from "zod";
import type { Env } from "~/env";
import type { CliResult } from "./command";

/**
 * The CLI's way into a running server that owns the PGlite directory (PGlite allows one process per directory).
 * Protocol: the client sends one JSON line `{"argv":[...]}`; the server runs it and answers with one JSON line
 * `{"exitCode","stdout","stderr"}`, then closes. The socket is a file of mode 0600 in DATA_DIR: only the user who
 * runs the server may connect, and that user could open the database directly anyway.
 */

/** `actor`: who runs the CLI (`cli:<os user>@<host>`), for the audit log of the commands it runs here. */
const requestSchema = z.object({ argv: z.array(z.string()), actor: z.string().min(1).max(300).optional() });
const resultSchema = z.object({ exitCode: z.number().int(), stdout: z.string(), stderr: z.string() });
/** Far above any real command line; stops a misbehaving client from growing a buffer without bound. */
const MAX_REQUEST_BYTES = 1024 * 1024;

/** Where a server on this data directory listens for CLI commands, and where the CLI looks for one. */
export function controlSocketPath(env: Pick<Env, "DATA_DIR">): string {
  return path.resolve(env.DATA_DIR, "control.sock");
}

export interface ControlServer {
  /** Stops accepting commands, waits for those running, and removes the socket file. */
  close(): Promise<void>;
}

export interface ControlServerOptions {
  socketPath: string;
  run: (argv: string[], actorLabel: string | undefined) => Promise<CliResult>;
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

/** Codes that mean "no server is listening there". ENAMETOOLONG: no server could have bound that path either. */
const NOBODY_LISTENING = new Set(["ECONNREFUSED", "ENOENT", "ENOTSOCK", "ENAMETOOLONG"]);

function failed(message: string): CliResult {
  return { exitCode: 1, stdout: "", stderr: `error: ${message}\n` };
}

/** Resolves with the first line the peer sends (or everything, if it closes its side first without a newline). */
function readLine(socket: Socket, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error: Error | null) => {
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onClose);
      socket.off("error", onError);
      if (error !== null) reject(error);
      else resolve(Buffer.concat(chunks).toString("utf8").split("\n", 1)[0] ?? "");
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (chunk.includes(0x0a)) finish(null);
      else if (size > limit) finish(new Error("message too large"));
    };
    const onEnd = () => finish(size > 0 ? null : new Error("the peer closed the connection without sending anything"));
    const onClose = () => finish(new Error("the connection closed"));
    const onError = (error: Error) => finish(error);
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("close", onClose);
    socket.on("error", onError);
  });
}

/** Removes a socket file left by a server that is gone; refuses to take over one that still answers. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  let stats;
  try {
    stats = await lstat(socketPath);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return;
    throw error;
  }
  if (!stats.isSocket())
    throw new Error(`${socketPath} exists and is not a socket; remove it or choose another DATA_DIR`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(socketPath);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
  if (live) throw new Error(`another process is already serving CLI commands on ${socketPath}`);
  await unlink(socketPath).catch((error: unknown) => {
    if (errorCode(error) !== "ENOENT") throw error;
  });
}

async function answer(line: string, run: ControlServerOptions["run"]): Promise<CliResult> {
  const request = requestSchema.safeParse(safeJsonParse(line));
  if (!request.success) return { exitCode: 2, stdout: "", stderr: "error: malformed control request\n" };
  try {
    return await run(request.data.argv, request.data.actor);
  } catch (error) {
    return failed(error instanceof Error ? (error.message.split("\n", 1)[0] ?? error.name) : String(error));
  }
}

/** For the server: answers CLI commands on a Unix domain socket until closed. */
export async function startControlServer(options: ControlServerOptions): Promise<ControlServer> {
  const { socketPath, run } = options;
  await mkdir(path.dirname(socketPath), { recursive: true });
  await removeStaleSocket(socketPath);

  /** Connections that have not yet sent a command: dropped on close. */
  const idle = new Set<Socket>();
  const running = new Set<Promise<void>>();

  const serve = async (socket: Socket) => {
    let line: string;
    try {
      line = await readLine(socket, MAX_REQUEST_BYTES);
    } catch {
      socket.destroy();
      return;
    } finally {
      idle.delete(socket);
    }
    const result = await answer(line, run);
    // Destroying once the answer is flushed keeps close() from waiting on a client that never hangs up.
    await new Promise<void>((resolve) => {
      if (socket.closed) return resolve();
      socket.once("close", () => resolve());
      socket.end(`${JSON.stringify(result)}\n`, () => socket.destroy());
    });
  };

  const server = createServer((socket) => {
    idle.add(socket);
    // A client that goes away mid-answer must not take the server down.
    socket.on("error", () => socket.destroy());
    const task = serve(socket).finally(() => running.delete(task));
    running.add(task);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
  await chmod(socketPath, 0o600);

  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of idle) socket.destroy();
        await Promise.allSettled([...running]);
        await closed;
        await unlink(socketPath).catch(() => {});
      })();
      return closing;
    },
  };
}

/**
 * For the CLI: runs a command in the server listening on `socketPath`. Resolves to null when no server listens
 * there (no socket file, or a stale one), so the caller can open the database itself.
 */
export function sendToControlServer(
  socketPath: string,
  argv: readonly string[],
  actorLabel?: string,
): Promise<CliResult | null> {
  return new Promise((resolve, reject) => {
    let connected = false;
    const socket = connect(socketPath);
    socket.once("connect", () => {
      connected = true;
      // Not end(): a server that is not half-open would close its side before answering.
      socket.write(`${JSON.stringify({ argv, actor: actorLabel })}\n`);
      readLine(socket, Number.MAX_SAFE_INTEGER).then(
        (line) => {
          socket.destroy();
          const parsed = resultSchema.safeParse(safeJsonParse(line));
          if (parsed.success) resolve(parsed.data);
          else reject(new Error(`the server at ${socketPath} sent an invalid answer`));
        },
        (error: unknown) => {
          socket.destroy();
          reject(
            new Error(
              `the server at ${socketPath} did not answer: ${error instanceof Error ? error.message : String(error)}`,
            ),
          );
        },
      );
    });
    socket.once("error", (error) => {
      if (connected) return;
      const code = errorCode(error);
      if (code !== undefined && NOBODY_LISTENING.has(code)) resolve(null);
      else if (code === "EACCES")
        reject(new Error(`permission denied on ${socketPath}; run the CLI as the user who runs the server`));
      else reject(error);
    });
  });
}

function safeJsonParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
