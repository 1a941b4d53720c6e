/**
 * Load worker for non-streamed requests, run as its own (pinned) process: autocannon, driven programmatically.
 * Latency percentiles come from every response's own time (autocannon's histogram rounds to whole milliseconds,
 * too coarse for a sub-millisecond overhead). Prints one LoadResult JSON line.
 */
import { createRequire } from "node:module";
import { MAX_ERROR_SAMPLES, readLoadConfig, type LoadResult } from "./load-result";
import { SampleBuffer } from "./stats";

/** The part of autocannon's API used here (the package ships no types). */
interface AutocannonResult {
  errors: number;
  timeouts: number;
  mismatches: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
}
interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(event: "response", listener: (client: unknown, statusCode: number, bytes: number, ms: number) => void): this;
  on(event: "reqError", listener: (error: Error) => void): this;
  on(event: "start", listener: () => void): this;
}
type Autocannon = (options: {
  /** Several URLs share the connections evenly. */
  url: string | string[];
  method: string;
  headers: Record<string, string>;
  body: string;
  connections: number;
  duration: number;
  timeout: number;
  verifyBody: (body: string) => boolean;
}) => AutocannonInstance;

const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

async function main(): Promise<void> {
  const config = readLoadConfig(process.argv);
  const latencies = new SampleBuffer();
  const errorSamples: string[] = [];
  let responses = 0;
  let good = 0;
  let startedAt = performance.now();
  let cpuAtStart = process.cpuUsage();

  const instance = autocannon({
    url: config.urls.length === 1 ? config.urls[0]! : config.urls,
    method: "POST",
    headers: config.headers,
    body: config.body,
    connections: config.connections,
    duration: config.durationSeconds,
    timeout: 10,
    verifyBody: (body) => body.includes(config.expectInBody),
  });
  instance.on("start", () => {
    startedAt = performance.now();
    cpuAtStart = process.cpuUsage();
  });
  instance.on("response", (_client, statusCode, _bytes, ms) => {
    responses++;
    if (statusCode >= 200 && statusCode < 300) {
      good++;
      latencies.push(ms);
    }
  });
  instance.on("reqError", (error) => {
    if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push(error.message);
  });
  const result = await instance;
  const durationSeconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);

  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = count;
  // A mismatched body still fired "response" with a 2xx status; it is not a good response.
  const ok = Math.max(0, good - result.mismatches);
  const output: LoadResult = {
    driver: "autocannon",
    urls: config.urls,
    connections: config.connections,
    durationSeconds,
    responses,
    ok,
    non2xx: result.non2xx,
    badBodies: result.mismatches,
    errors: result.errors,
    statusCodes,
    requestsPerSecond: ok / durationSeconds,
    latencyMs: latencies.summarize(),
    ttfbMs: null,
    ttfcMs: null,
    workerCpuMs: (cpu.user + cpu.system) / 1000,
    errorSamples,
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `load-autocannon failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
