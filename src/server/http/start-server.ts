import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Container } from "~/server/container";
import { isMetricsPath, serveMetrics } from "~/server/observability/metrics-endpoint";
import { serveGatewayRequest } from "./node-adapter";

export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

export interface RunningServer {
  server: Server;
  port: number;
  /**
   * From now on `/readyz` answers 503, so that a load balancer stops sending new traffic, while everything else is
   * still served; `stop` follows after the drain delay.
   */
  beginDrain(): void;
  /** Graceful stop: refuse new connections, let in-flight requests finish (bounded), then cut the rest. */
  stop(timeoutMs: number): Promise<void>;
}

const NOT_FOUND_BODY = JSON.stringify({
  error: { message: "Not found", type: "not_found_error", param: null, code: "unknown_url" },
});

const notFound: RequestHandler = (_request, response) => {
  response.writeHead(404, { "content-type": "application/json" });
  response.end(NOT_FOUND_BODY);
  return Promise.resolve();
};

const NO_STORE = { "content-type": "application/json", "cache-control": "no-store" };

/** `/healthz`: the process answers. `/readyz`: it can take traffic (see readiness.ts), and is not draining. */
async function serveHealth(
  path: "/healthz" | "/readyz",
  container: Container,
  draining: boolean,
  response: ServerResponse,
): Promise<void> {
  if (path === "/healthz") {
    response.writeHead(200, NO_STORE);
    response.end(JSON.stringify({ status: "ok" }));
    return;
  }
  if (draining) {
    response.writeHead(503, NO_STORE);
    response.end(JSON.stringify({ status: "draining" }));
    return;
  }
  const report = await container.readiness();
  response.writeHead(report.ready ? 200 : 503, NO_STORE);
  response.end(JSON.stringify({ status: report.ready ? "ready" : "not ready", checks: report.checks }));
}

/** `/healthz` or `/readyz` (with or without a query), else null; no allocation for every other request. */
function healthPath(url: string): "/healthz" | "/readyz" | null {
  if (url.startsWith("/healthz") && (url.length === 8 || url[8] === "?")) return "/healthz";
  if (url.startsWith("/readyz") && (url.length === 7 || url[7] === "?")) return "/readyz";
  return null;
}

/** /v1 and the public catalog API (/api/v1/models...), which API-only instances serve too. */
function isGatewayPath(url: string): boolean {
  return url === "/v1" || url.startsWith("/v1/") || url.startsWith("/v1?") || url.startsWith("/api/v1/");
}

/**
 * The production HTTP server: /healthz and /readyz answered here in every mode, /metrics when METRICS_TOKEN is set
 * without a METRICS_PORT, /v1/* (and /api/v1/*) straight to the
 * gateway core, everything else to `dashboard` (Next's request handler) or 404 when the dashboard is off.
 */
export async function startServer(options: {
  container: Container;
  host: string;
  port: number;
  dashboard?: RequestHandler | null;
}): Promise<RunningServer> {
  const { container } = options;
  const { gateway, logger } = container;
  const dashboard = options.dashboard ?? notFound;
  const maxBodyBytes = container.env.MAX_REQUEST_BODY_BYTES;
  // Metrics on this port only when they have no port of their own (and then always behind METRICS_TOKEN).
  const metrics =
    container.metrics !== null && container.env.METRICS_PORT === undefined
      ? { registry: container.metrics, token: container.env.METRICS_TOKEN }
      : null;
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  let draining = false;

  const server = createServer((request, response) => {
    inFlight += 1;
    response.once("close", () => {
      inFlight -= 1;
      if (inFlight === 0) onIdle?.();
    });
    const url = request.url ?? "/";
    const health = healthPath(url);
    const served =
      health !== null
        ? serveHealth(health, container, draining, response)
        : metrics !== null && isMetricsPath(url)
          ? serveMetrics(request, response, metrics)
          : isGatewayPath(url)
            ? serveGatewayRequest(gateway, request, response, { maxBodyBytes })
            : dashboard(request, response);
    served.catch((error: unknown) => {
      logger.error("request failed", { error, path: url.split("?")[0] });
      if (!response.headersSent) {
        response.writeHead(500, { "content-type": "application/json" });
        response.end(
          JSON.stringify({
            error: { message: "Internal error", type: "server_error", param: null, code: "internal_error" },
          }),
        );
      } else {
        response.destroy();
      }
    });
  });
  // Longer than common load balancers' idle timeout, so they never reuse a socket we are closing.
  server.keepAliveTimeout = 65_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });

  let stopping: Promise<void> | undefined;
  return {
    server,
    port: (server.address() as AddressInfo).port,
    beginDrain() {
      draining = true;
    },
    stop(timeoutMs) {
      draining = true;
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const drained = inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (onIdle = resolve));
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
        await Promise.race([drained, timeout]);
        clearTimeout(timer);
        server.closeAllConnections();
        await closed;
      })();
      return stopping;
    },
  };
}
