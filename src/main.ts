/**
 * Production entry: one process, one node:http server. /v1/* goes straight to the gateway core (no framework on the
 * hot path); every other path goes to Next.js in the same process, sharing one container.
 */
import path from "node:path";
import { startControlServer } from "~/cli/control-socket";
import { createCliContextFromContainer, runCli } from "~/cli/run-cli";
import { loadDotEnv, readEnv } from "~/env";
import { createContainer, setContainer } from "~/server/container";
import { startServer, type RequestHandler } from "~/server/http/start-server";

async function createDashboardHandler(dev: boolean, hostname: string, port: number): Promise<RequestHandler> {
  const { default: next } = await import("next");
  const app = next({ dev, dir: process.cwd(), hostname, port });
  await app.prepare();
  const handle = app.getRequestHandler();
  return (request, response) => handle(request, response);
}

async function main(): Promise<void> {
  const dev = process.argv.includes("--dev");
  // Next picks production or development behaviour from NODE_ENV; make it agree with how we start it.
  (process.env as Record<string, string | undefined>).NODE_ENV ??= dev ? "development" : "production";
  loadDotEnv();
  const env = readEnv();
  const containerPromise = createContainer({ env });
  setContainer(containerPromise);
  const container = await containerPromise;
  const { logger } = container;

  // With embedded PGlite this process owns the database, so the CLI sends its commands here instead.
  const control =
    container.database.kind === "pglite"
      ? await startControlServer({
          socketPath: path.join(env.DATA_DIR, "control.sock"),
          run: (argv: string[]) => runCli(argv, createCliContextFromContainer(container)),
        })
      : null;

  const dashboard = env.SERVE_DASHBOARD ? await createDashboardHandler(dev, env.HOST, env.PORT) : null;
  const running = await startServer({ container, host: env.HOST, port: env.PORT, dashboard });
  const shownHost = env.HOST === "0.0.0.0" || env.HOST === "::" ? "localhost" : env.HOST;
  process.stdout.write(
    `Tollgate listening on http://${shownHost}:${running.port} ` +
      `(dashboard ${dashboard ? "on" : "off"}, database ${container.database.kind})\n`,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    await running.stop(env.SHUTDOWN_TIMEOUT_MS);
    await control?.close();
    // Flushes pending usage rows and debits before the database closes.
    await container.close();
    logger.info("stopped", { signal });
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`Tollgate failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
