import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface MetricsAccess {
  registry: Registry;
  /** The bearer token a scrape must send; undefined on a listener of its own that needs none. */
  token: string | undefined;
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Compared in constant time (over digests, so the length leaks nothing either). */
function presentsToken(request: IncomingMessage, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "");
  return match !== null && timingSafeEqual(digest(match[1]!), digest(token));
}

function answer(response: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  response.writeHead(status, { "cache-control": "no-store", ...headers });
  response.end(body);
}

/** `GET /metrics` in Prometheus's text format, behind the bearer token when one is configured. */
export async function serveMetrics(
  request: IncomingMessage,
  response: ServerResponse,
  access: MetricsAccess,
): Promise<void> {
  if (access.token !== undefined && !presentsToken(request, access.token)) {
    answer(
      response,
      401,
      { "content-type": "text/plain", "www-authenticate": 'Bearer realm="metrics"' },
      "Unauthorized\n",
    );
    return;
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    answer(response, 405, { "content-type": "text/plain", allow: "GET, HEAD" }, "Method not allowed\n");
    return;
  }
  answer(response, 200, { "content-type": access.registry.contentType }, await access.registry.metrics());
}

/** `/metrics` (with or without a query), else false; no allocation for every other request. */
export function isMetricsPath(url: string): boolean {
  return url.startsWith("/metrics") && (url.length === 8 || url[8] === "?");
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/** A listener of its own for `/metrics` (METRICS_PORT), so scrapes never share the public port. */
export async function startMetricsServer(
  options: MetricsAccess & { host: string; port: number },
): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    if (!isMetricsPath(request.url ?? "/")) {
      answer(response, 404, { "content-type": "text/plain" }, "Not found\n");
      return;
    }
    serveMetrics(request, response, options).catch(() => {
      if (!response.headersSent) answer(response, 500, { "content-type": "text/plain" }, "Metrics failed\n");
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
