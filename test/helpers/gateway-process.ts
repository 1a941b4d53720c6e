import { spawn, type ChildProcess, type ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";
import { tmpdir } from "node:os";
import type { CliResult } from "~/cli/command";
import { CLI_ENTRY, ensureServerBuild } from "~/scripts/server-build";
import { TEST_SECRETS } from "./gateway-harness";
import { seedPgliteDir } from "./pglite-template";
import { REPO_ROOT } from "./repo-paths";

export { REPO_ROOT };

export interface GatewayProcess {
  child: ChildProcess;
  baseUrl: string;
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Minimal environment for child processes: nothing from the developer's shell leaks into a test. */
export function childEnv(variables: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? tmpdir(),
    NODE_ENV: "production" as const,
    LOG_LEVEL: "warn",
    ...TEST_SECRETS,
    ...variables,
  };
}

/**
 * Starts the real production entry (the server bundle, which `npm start` runs after building it) as a child process on
 * a free port, API only, and resolves once it says it is listening. A PGLITE_DIR that does not exist yet starts as a
 * copy of the run's migrated template (pglite-template.ts) unless `createsDatabase`: then the process creates it, as a
 * first `npm start` does.
 */
export function startGatewayProcess(
  variables: Record<string, string>,
  { createsDatabase = false }: { createsDatabase?: boolean } = {},
): Promise<GatewayProcess> {
  if (!createsDatabase && variables.PGLITE_DIR !== undefined && !variables.DATABASE_URL) {
    seedPgliteDir(variables.PGLITE_DIR);
  }
  const child = spawn(process.execPath, [ensureServerBuild()], {
    cwd: REPO_ROOT,
    env: childEnv({ HOST: "127.0.0.1", PORT: "0", SERVE_DASHBOARD: "false", ...variables }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  return new Promise((resolve, reject) => {
    let listening = false;
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const match = /Tollgate listening on (http:\/\/\S+)/.exec(output);
      if (listening || match?.[1] === undefined) return;
      listening = true;
      resolve({
        child,
        baseUrl: `${match[1]}/v1`,
        output: () => output,
        stop(signal = "SIGTERM") {
          child.kill(signal);
          return exited;
        },
      });
    });
    void exited.then((code) => {
      if (!listening) reject(new Error(`the gateway exited with ${code} before listening:\n${output}`));
    });
  });
}

/** Runs the operator CLI as a process (`npm run tollgate -- …`) with `variables` added to a minimal environment. */
export async function runCli(
  args: string[],
  variables: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { exitCode, stdout, stderr } = await spawnCli(args, childEnv(variables));
  return { code: exitCode, stdout, stderr };
}

/**
 * Runs the operator CLI from the server bundle (server-build.ts), with exactly `env`: the code `npm run tollgate`
 * runs from source, started in a fifth of the time.
 */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  ensureServerBuild();
  return outputOf(
    spawn(process.execPath, [CLI_ENTRY, ...args], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] }),
  );
}

/** A child's exit code and everything it wrote, once it has exited and closed its output. */
export function outputOf(child: ChildProcessByStdio<null, Readable, Readable>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ exitCode: code ?? -1, stdout, stderr }));
  });
}
