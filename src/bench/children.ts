/** Child processes of the bench: node scripts pinned to one core with taskset, output kept and watched. */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { onCleanup } from "./cleanup";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TASKSET = ["/usr/bin/taskset", "/bin/taskset"].find((candidate) => existsSync(candidate)) ?? null;

export function canPin(): boolean {
  return TASKSET !== null;
}

/** The last lines a child wrote, and anyone waiting for a particular line. */
class OutputLog {
  readonly lines: string[] = [];
  private readonly watchers = new Set<(line: string) => void>();
  constructor(private readonly keep: number) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.keep) this.lines.shift();
    for (const watcher of this.watchers) watcher(line);
  }

  watch(watcher: (line: string) => void): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  tail(count: number): string {
    return this.lines.slice(-count).join("\n");
  }
}

export interface NodeChild {
  name: string;
  process: ChildProcess;
  pid: number;
  stdout: OutputLog;
  stderr: OutputLog;
  exited: Promise<number | null>;
  /** Null while it runs; afterwards how it ended, e.g. "exited with code 1" or "was killed by SIGSEGV". */
  endedHow(): string | null;
  /** Whether the bench itself asked it to stop. */
  readonly stopRequested: boolean;
  /** Resolves with the first stdout line matching `pattern`; rejects when the child exits first or time runs out. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  /** Script path relative to the repository root; a `.ts` one is run with `node --import tsx`. */
  script: string;
  args?: string[];
  /** Extra flags for node itself, before the script (e.g. --cpu-prof). */
  nodeFlags?: string[];
  env: NodeJS.ProcessEnv;
  /** The CPU to pin to (`taskset -c`); null runs unpinned. */
  cpu: number | null;
  keepLines?: number;
}

export function spawnNode(options: SpawnOptions): NodeChild {
  const loader = options.script.endsWith(".ts") ? ["--import", "tsx"] : [];
  const nodeArgs = [...(options.nodeFlags ?? []), ...loader, options.script, ...(options.args ?? [])];
  const pinned = options.cpu !== null && TASKSET !== null;
  const child = pinned
    ? spawn(TASKSET, ["-c", String(options.cpu), process.execPath, ...nodeArgs], {
        cwd: REPO_ROOT,
        env: options.env,
        stdio: ["ignore", "pipe", "pipe"],
      })
    : spawn(process.execPath, nodeArgs, { cwd: REPO_ROOT, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`could not start ${options.name}`);
  const pid = child.pid;

  const stdout = new OutputLog(options.keepLines ?? 200);
  const stderr = new OutputLog(options.keepLines ?? 200);
  createInterface({ input: child.stdout }).on("line", (line) => stdout.push(line));
  createInterface({ input: child.stderr }).on("line", (line) => stderr.push(line));
  let exitCode: number | null | undefined;
  let endedHow: string | null = null;
  let stopRequested = false;
  const exited = new Promise<number | null>((resolve) => {
    // "close", not "exit": by then every line of stdout and stderr has been read.
    child.once("close", (code, signal) => {
      exitCode = code ?? (signal === null ? null : 128);
      endedHow = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
      resolve(exitCode);
    });
    child.once("error", (error) => {
      endedHow = `could not run: ${error.message}`;
      resolve((exitCode = 127));
    });
  });

  const stop = async (graceMs = 15_000) => {
    if (exitCode !== undefined) return;
    stopRequested = true;
    child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve();
      }, graceMs);
    });
    await Promise.race([exited.then(() => undefined), killed]);
    clearTimeout(timer);
    await exited;
  };
  onCleanup(
    `stop ${options.name}`,
    () => stop(),
    () => {
      if (exitCode === undefined) child.kill("SIGKILL");
    },
  );

  return {
    name: options.name,
    process: child,
    pid,
    stdout,
    stderr,
    exited,
    endedHow: () => endedHow,
    get stopRequested() {
      return stopRequested;
    },
    stop,
    waitForLine(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const fail = (reason: string) => {
          cleanupWaiters();
          reject(
            new Error(
              `${options.name} ${reason}\n--- its stderr (last lines) ---\n${stderr.tail(30)}\n--- stdout ---\n${stdout.tail(10)}`,
            ),
          );
        };
        const timer = setTimeout(
          () => fail(`printed no line matching ${String(pattern)} within ${timeoutMs} ms`),
          timeoutMs,
        );
        const unwatch = stdout.watch((line) => {
          const match = pattern.exec(line);
          if (match !== null) {
            cleanupWaiters();
            resolve(match);
          }
        });
        void exited.then((code) => fail(`exited (code ${code}) before printing a line matching ${String(pattern)}`));
        function cleanupWaiters() {
          clearTimeout(timer);
          unwatch();
        }
        for (const line of stdout.lines) {
          const match = pattern.exec(line);
          if (match !== null) {
            cleanupWaiters();
            resolve(match);
            return;
          }
        }
      });
    },
  };
}

/**
 * Runs a node script to completion (pinned like the others) and returns its output; kills it after `timeoutMs`.
 */
export async function runNode(
  options: SpawnOptions & { timeoutMs: number },
): Promise<{ exitCode: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  const child = spawnNode({ ...options, keepLines: options.keepLines ?? 10_000 });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void child.stop(2_000);
  }, options.timeoutMs);
  const exitCode = await child.exited;
  clearTimeout(timer);
  return { exitCode, stdout: child.stdout.lines.join("\n"), stderr: child.stderr.lines.join("\n"), timedOut };
}
