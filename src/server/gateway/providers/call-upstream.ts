import { Agent, type Dispatcher } from "undici";
import { UpstreamTimeoutError, type UpstreamResponse, type UpstreamTransport } from "./types";
import { UpstreamBody } from "./upstream-body";

const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT"]);

function isTimeout(error: unknown): boolean {
  return typeof error === "object" && error !== null && TIMEOUT_CODES.has((error as { code?: string }).code ?? "");
}

/**
 * What `close` gives calls still running. By then the server has stopped and its clients are gone, so what is left
 * is mostly a stream's body being read to its end behind an answer the client already has: normally done at once.
 */
const DEFAULT_CLOSE_GRACE_MS = 2_000;

/** What a transport built without limits uses (the container passes the configured ones). */
const DEFAULT_UPSTREAM_TIMEOUTS = {
  connectMs: 10_000,
  firstByteMs: 300_000,
  idleMs: 300_000,
  totalMs: 600_000,
};

export interface HttpTransportOptions {
  connectTimeoutMs?: number;
  /** Longest wait for the response headers (a model may think before its first byte). */
  firstByteTimeoutMs?: number;
  /** Longest silence between two body chunks. */
  idleTimeoutMs?: number;
  /** Longest a whole call may take, headers and body. */
  totalTimeoutMs?: number;
  connectionsPerOrigin?: number;
  /** How long `close` lets calls still running finish before it cuts them. */
  closeGraceMs?: number;
  /** Builds the connection pool used for one connect timeout (tests watch which pools a call picks). */
  createAgent?: (connectTimeoutMs: number) => Dispatcher;
}

export interface HttpTransport {
  send: UpstreamTransport;
  close(): Promise<void>;
}

/**
 * The only place the gateway talks HTTP to providers: undici's pooled `dispatch` with keep-alive connections per
 * origin, so a call costs no TCP or TLS handshake once the pool is warm. `dispatch` with a handler of our own rather
 * than undici's `request`: the body is queued for the reader (UpstreamBody) instead of going through a Node stream,
 * and side by side against the bench's mock upstream `request` took half as much CPU again per call.
 *
 * Time limits, each the channel's own or the configured default: first byte and idle are undici's per-request
 * `headersTimeout` and `bodyTimeout`; connect is a pool option, so there is one pool per distinct connect timeout
 * (channels set few distinct values; the pools live as long as the transport); total is a timer that aborts the
 * call. The call is aborted by the client's signal or by that timer, and remembers which fired: a total timeout
 * surfaces as UpstreamTimeoutError (from the promise before the headers, from the body's iteration after them) and a
 * client leaving never does.
 */
export function createHttpTransport(options: HttpTransportOptions = {}): HttpTransport {
  const defaults = {
    connectMs: options.connectTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUTS.connectMs,
    firstByteMs: options.firstByteTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUTS.firstByteMs,
    idleMs: options.idleTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUTS.idleMs,
    totalMs: options.totalTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUTS.totalMs,
  };
  const createAgent =
    options.createAgent ??
    ((connectTimeoutMs: number) =>
      new Agent({
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
        connections: options.connectionsPerOrigin ?? 256,
        connect: { timeout: connectTimeoutMs },
        headersTimeout: defaults.firstByteMs,
        bodyTimeout: defaults.idleMs,
      }));
  const agents = new Map<number, Dispatcher>();
  const agentFor = (connectTimeoutMs: number): Dispatcher => {
    let agent = agents.get(connectTimeoutMs);
    if (agent === undefined) {
      agent = createAgent(connectTimeoutMs);
      agents.set(connectTimeoutMs, agent);
    }
    return agent;
  };
  agentFor(defaults.connectMs);
  // Calls not yet finished (their body not yet ended, failed or abandoned), for `close`.
  let running = 0;
  let allFinished: (() => void) | null = null;

  return {
    send(request, signal, callOptions) {
      const limits = callOptions?.timeouts;
      let url: URL;
      try {
        url = new URL(request.url);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      // undici hands the call's controller over once the request has a connection; an abort before that waits here.
      let controller: Dispatcher.DispatchController | null = null;
      let abortedWith: Error | null = null;
      const abortCall = (reason: Error) => {
        abortedWith ??= reason;
        controller?.abort(reason);
      };
      let timedOut = false;
      const onClientAbort = () => abortCall(clientAbortReason(signal));
      signal.addEventListener("abort", onClientAbort, { once: true });
      const totalMs = limits?.totalMs ?? defaults.totalMs;
      const timer = setTimeout(() => {
        if (abortedWith !== null) return;
        timedOut = true;
        abortCall(new UpstreamTimeoutError(`upstream call exceeded its total time limit (${totalMs} ms)`));
      }, totalMs);
      // A call whose body is never read to its end must not keep the process alive until its limit.
      timer.unref();
      running += 1;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        clearTimeout(timer);
        signal.removeEventListener("abort", onClientAbort);
        running -= 1;
        if (running === 0) allFinished?.();
      };
      const asTimeout = (error: Error): Error =>
        error instanceof UpstreamTimeoutError
          ? error
          : timedOut || isTimeout(error)
            ? new UpstreamTimeoutError("upstream timed out", { cause: error })
            : error;
      if (signal.aborted) onClientAbort();

      return new Promise<UpstreamResponse>((resolve, reject) => {
        let body: UpstreamBody | null = null;
        const handler: Dispatcher.DispatchHandler = {
          onRequestStart(started) {
            controller = started;
            if (abortedWith !== null) started.abort(abortedWith);
          },
          onResponseStart(started, statusCode, headers) {
            const received = new UpstreamBody(started, asTimeout, release);
            body = received;
            resolve({
              status: statusCode,
              headers,
              body: received,
              // Iterating is much cheaper than decoding through a web stream.
              text: () => readBodyText(received),
            });
          },
          onResponseData(_controller, chunk) {
            body?.push(chunk);
          },
          onResponseEnd() {
            body?.end();
          },
          onResponseError(_controller, error) {
            if (body !== null) {
              body.fail(error);
              return;
            }
            release();
            // The client left: its abort is passed on as it came, for the caller to tell from a timeout.
            reject(signal.aborted && !timedOut ? error : asTimeout(error));
          },
        };
        try {
          agentFor(limits?.connectMs ?? defaults.connectMs).dispatch(
            {
              origin: url.origin,
              path: `${url.pathname}${url.search}`,
              method: request.method,
              headers: request.headers,
              body: request.body,
              headersTimeout: limits?.firstByteMs ?? defaults.firstByteMs,
              bodyTimeout: limits?.idleMs ?? defaults.idleMs,
            },
            handler,
          );
        } catch (error) {
          release();
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    },
    async close() {
      // An upstream that never ends a body must not hold the process open until the call's own limits.
      if (running > 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          allFinished = resolve;
          timer = setTimeout(resolve, options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
        });
        clearTimeout(timer);
      }
      const pools = [...agents.values()];
      await Promise.all(pools.map((pool) => (running > 0 ? pool.destroy() : pool.close())));
    },
  };
}

/** The client's abort reason as an Error (undici aborts with one); AbortSignal's default reason already is. */
function clientAbortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException("The client disconnected.", "AbortError");
}

/** Reads a whole upstream body as text, refusing bodies larger than the limit. */
export async function readBodyText(body: AsyncIterable<Uint8Array>, limitBytes = 64 * 1024 * 1024): Promise<string> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of body) {
    size += part.byteLength;
    if (size > limitBytes) throw new Error(`upstream body larger than ${limitBytes} bytes`);
    parts.push(part);
  }
  return Buffer.concat(parts).toString("utf8");
}
