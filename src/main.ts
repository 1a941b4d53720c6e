/**
 * Production entry: one process, one node:http server. /v1/* goes straight to the gateway core (no framework on the
 * hot path); every other path goes to Next.js in the same process, sharing one container.
 */
import { controlSocketPath, startControlServer } from "~/cli/control-socket";
import { createCliContextFromContainer, runCli } from "~/cli/run-cli";
import { loadDotEnv, readEnv } from "~/env";
import { createContainer, setContainer, type Container } from "~/server/container";
import { startServer, type RequestHandler } from "~/server/http/start-server";
import { startMetricsServer } from "~/server/observability/metrics-endpoint";

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

  // With embedded PGlite this process owns the database (PGlite admits one process per directory), so the CLI sends
  // its commands here. The socket is up before the database opens, so a CLI started meanwhile waits for this process
  // instead of opening the same directory.
  const ready = Promise.withResolvers<Container>();
  const control =
    env.DATABASE_URL === undefined
      ? await startControlServer({
          socketPath: controlSocketPath(env),
          run: async (argv: string[], actorLabel: string | undefined) =>
            runCli(argv, createCliContextFromContainer(await ready.promise, actorLabel)),
        })
      : null;
  const containerPromise = createContainer({ env });
  setContainer(containerPromise);
  containerPromise.then(ready.resolve, ready.reject);
  const container = await containerPromise;
  const { logger } = container;

  const dashboard = env.SERVE_DASHBOARD ? await createDashboardHandler(dev, env.HOST, env.PORT) : null;
  const running = await startServer({ container, host: env.HOST, port: env.PORT, dashboard });
  const metricsServer =
    container.metrics !== null && env.METRICS_PORT !== undefined
      ? await startMetricsServer({
          registry: container.metrics,
          token: env.METRICS_TOKEN,
          host: env.METRICS_HOST,
          port: env.METRICS_PORT,
        })
      : null;
  const shownHost = env.HOST === "0.0.0.0" || env.HOST === "::" ? "localhost" : env.HOST;
  process.stdout.write(
    `Tollgate listening on http://${shownHost}:${running.port} ` +
      `(dashboard ${dashboard ? "on" : "off"}, database ${container.database.kind})\n`,
  );
  if (metricsServer !== null)
    process.stdout.write(`Metrics on http://${env.METRICS_HOST}:${metricsServer.port}/metrics\n`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal, drainDelayMs: env.SHUTDOWN_DRAIN_DELAY_MS });
    // /readyz fails first, while traffic is still served, so a load balancer moves it elsewhere before we stop.
    running.beginDrain();
    if (env.SHUTDOWN_DRAIN_DELAY_MS > 0)
      await new Promise((resolve) => setTimeout(resolve, env.SHUTDOWN_DRAIN_DELAY_MS));
    await running.stop(env.SHUTDOWN_TIMEOUT_MS);
    await metricsServer?.close();
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
