/**
 * Load worker for streamed requests, run as its own (pinned) process. autocannon cannot tell when the first body
 * byte arrives, so this drives an undici pool itself: `connections` loops, each sending one request after another
 * until the duration is over, timing the first body byte (TTFB) and the end of each stream. Prints one LoadResult
 * JSON line.
 */
import { Pool } from "undici";
import { MAX_ERROR_SAMPLES, readLoadConfig, type LoadResult } from "./load-result";
import { SampleBuffer } from "./stats";

const REQUEST_TIMEOUT_MS = 10_000;
const DONE = "data: [DONE]";
/** A delta carrying text: `"content":"` followed by anything but the closing quote of an empty string. */
const CONTENT = /"content":"[^"]/;
/** Enough of the previous read to find a content field split across two reads. */
const CARRY = 16;

async function main(): Promise<void> {
  const config = readLoadConfig(process.argv);
  // Connection loop i sends to URL i mod n, so several servers share the load evenly.
  const targets = config.urls.map((text) => {
    const url = new URL(text);
    const pool = new Pool(url.origin, {
      connections: Math.ceil(config.connections / config.urls.length),
      pipelining: 1,
      keepAliveTimeout: 60_000,
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    return { pool, path: url.pathname };
  });
  const headers = { ...config.headers, "content-length": String(Buffer.byteLength(config.body)) };
  const ttfb = new SampleBuffer();
  const ttfc = new SampleBuffer();
  const total = new SampleBuffer();
  const statusCodes: Record<string, number> = {};
  const errorSamples: string[] = [];
  let responses = 0;
  let ok = 0;
  let non2xx = 0;
  let badBodies = 0;
  let errors = 0;

  const note = (message: string) => {
    if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push(message);
  };

  async function once(target: (typeof targets)[number]): Promise<void> {
    const startedAt = performance.now();
    try {
      const response = await target.pool.request({ path: target.path, method: "POST", headers, body: config.body });
      let firstByteAt = -1;
      let firstContentAt = -1;
      let carried = "";
      const parts: Buffer[] = [];
      for await (const part of response.body as AsyncIterable<Buffer>) {
        if (firstByteAt < 0) firstByteAt = performance.now();
        if (firstContentAt < 0) {
          const text = carried + part.toString("utf8");
          if (CONTENT.test(text)) firstContentAt = performance.now();
          else carried = text.slice(-CARRY);
        }
        parts.push(part);
      }
      const endedAt = performance.now();
      responses++;
      const code = String(response.statusCode);
      statusCodes[code] = (statusCodes[code] ?? 0) + 1;
      const text = Buffer.concat(parts).toString("utf8");
      if (response.statusCode < 200 || response.statusCode >= 300) {
        non2xx++;
        note(`HTTP ${code}: ${text.slice(0, 300)}`);
        return;
      }
      if (!text.trimEnd().endsWith(DONE) || text.includes('"error":') || !text.includes(config.expectInBody)) {
        badBodies++;
        note(`bad stream (${text.length} bytes), ends: ${JSON.stringify(text.slice(-300))}`);
        return;
      }
      ok++;
      ttfb.push(firstByteAt - startedAt);
      if (firstContentAt >= 0) ttfc.push(firstContentAt - startedAt);
      total.push(endedAt - startedAt);
    } catch (error) {
      errors++;
      note(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      // A refused connection fails at once; do not spin.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  const cpuAtStart = process.cpuUsage();
  const startedAt = performance.now();
  const deadline = startedAt + config.durationSeconds * 1000;
  const loop = async (target: (typeof targets)[number]) => {
    while (performance.now() < deadline) await once(target);
  };
  await Promise.all(Array.from({ length: config.connections }, (_, index) => loop(targets[index % targets.length]!)));
  const durationSeconds = (performance.now() - startedAt) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  await Promise.all(targets.map(({ pool }) => pool.close()));

  const output: LoadResult = {
    driver: "undici-stream",
    urls: config.urls,
    connections: config.connections,
    durationSeconds,
    responses,
    ok,
    non2xx,
    badBodies,
    errors,
    statusCodes,
    requestsPerSecond: ok / durationSeconds,
    latencyMs: total.summarize(),
    ttfbMs: ttfb.summarize(),
    ttfcMs: ttfc.summarize(),
    workerCpuMs: (cpu.user + cpu.system) / 1000,
    errorSamples,
  };
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `load-stream failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
