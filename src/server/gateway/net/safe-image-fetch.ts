import { lookup as dnsLookup } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
import { Agent, request, type Dispatcher } from "undici";
import { blockedAddressReason } from "./ip-address-policy";

/*
 * Downloads images from URLs that clients put in their requests, for providers that only take inline images.
 * The URL is the client's, so this is a server-side request forgery surface; the rules:
 *
 * - http and https only (and no redirect from https down to http);
 * - every address a host name resolves to must be public (see ip-address-policy.ts); one bad address refuses the
 *   host, so a name cannot smuggle a private address in next to a public one;
 * - the check happens in the connection's own DNS lookup, so the address that was vetted is the address connected
 *   to: a DNS answer that changes between check and use (rebinding) cannot slip through;
 * - redirects are followed by hand, at most `maxRedirects`, each hop checked the same way;
 * - the answer must be 2xx with an `image/*` content type, no larger than `maxBytes`, and all of it (DNS,
 *   connecting, redirects, body) must arrive within `timeoutMs`.
 */

export type ImageFetchFailure =
  | "unsupported_url"
  | "blocked_address"
  | "unresolvable"
  | "unreachable"
  | "timeout"
  | "http_status"
  | "too_many_redirects"
  | "not_an_image"
  | "too_large";

/** An image URL that cannot be used; `message` says why, in words fit for the client. */
export class ImageFetchError extends Error {
  constructor(
    readonly reason: ImageFetchFailure,
    message: string,
  ) {
    super(message);
    this.name = "ImageFetchError";
  }
}

export interface FetchedImage {
  /** The media type from the response, lower case, without parameters (`image/png`). */
  mimeType: string;
  data: Buffer;
}

/** Downloads one image; rejects with ImageFetchError when the URL cannot be used, or with the abort reason. */
export type ImageFetcher = (url: string, signal?: AbortSignal) => Promise<FetchedImage>;

export type ResolveHost = (hostname: string) => Promise<{ address: string; family: number }[]>;

export interface SafeImageFetcherOptions {
  /** Largest image accepted, in bytes. Default 10 MB. */
  maxBytes?: number;
  /** Longest time for one image, redirects included. Default 10 s. */
  timeoutMs?: number;
  /** Default 3. */
  maxRedirects?: number;
  /**
   * Says why an address may not be connected to, or null when it may. Default: public addresses only
   * (`blockedAddressReason`).
   */
  addressPolicy?: (address: string) => string | null;
  /**
   * Connect to any address, private and loopback included. Only for deployments whose images live on a private
   * network they trust, and for tests that serve images locally.
   */
  allowPrivateAddresses?: boolean;
  /** DNS resolution, every address of the name. Default: the system resolver (`dns.lookup` with `all: true`). */
  resolve?: ResolveHost;
}

export interface SafeImageFetcher {
  fetch: ImageFetcher;
  close(): Promise<void>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_REDIRECTS = 3;

const systemResolve: ResolveHost = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

function hostOf(url: URL): string {
  return url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
}

function parseUrl(text: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw new ImageFetchError("unsupported_url", "it is not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ImageFetchError("unsupported_url", "only http and https URLs can be fetched");
  }
  return url;
}

function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname.length > 40 ? `${url.pathname.slice(0, 40)}…` : url.pathname}`;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Drops a body that will not be read; undici reports the abort as an error event, which nobody needs. */
function discard(body: Dispatcher.ResponseData["body"]): void {
  body.on("error", () => undefined);
  body.destroy();
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null ? (error as { code?: string }).code : undefined;
}

/** What a failed connection means for the client, in its terms. */
function connectionFailure(error: unknown, url: URL): ImageFetchError {
  if (error instanceof ImageFetchError) return error;
  const code = errorCode(error);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "ENODATA") {
    return new ImageFetchError("unresolvable", `its host ${url.hostname} could not be resolved`);
  }
  if (code === "UND_ERR_CONNECT_TIMEOUT" || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
    return new ImageFetchError("timeout", "it did not download in time");
  }
  return new ImageFetchError("unreachable", `it could not be downloaded (${code ?? "connection failed"})`);
}

export function createSafeImageFetcher(options: SafeImageFetcherOptions = {}): SafeImageFetcher {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const policy = options.allowPrivateAddresses === true ? () => null : (options.addressPolicy ?? blockedAddressReason);
  const resolve = options.resolve ?? systemResolve;

  // The connection's own lookup: resolves, vets every address, and hands the socket only vetted ones.
  const vettedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    resolve(hostname).then(
      (addresses) => {
        if (addresses.length === 0) {
          callback(Object.assign(new Error(`no addresses for ${hostname}`), { code: "ENOTFOUND" }), "", 4);
          return;
        }
        for (const { address } of addresses) {
          const reason = policy(address);
          if (reason !== null) {
            callback(
              // The kind of address, never the address itself: the client must not learn the internal network.
              new ImageFetchError("blocked_address", `its host ${hostname} resolves to ${reason}`),
              "",
              4,
            );
            return;
          }
        }
        const usable =
          lookupOptions.family === 4 || lookupOptions.family === 6
            ? addresses.filter((entry) => entry.family === lookupOptions.family)
            : addresses;
        const [first] = usable;
        if (first === undefined) {
          callback(Object.assign(new Error(`no usable address for ${hostname}`), { code: "ENOTFOUND" }), "", 4);
        } else if (lookupOptions.all === true) {
          (callback as unknown as (error: null, addresses: { address: string; family: number }[]) => void)(
            null,
            usable,
          );
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: unknown) => callback(error as NodeJS.ErrnoException, "", 4),
    );
  };

  const agent = new Agent({
    connect: { lookup: vettedLookup, timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connections: 16,
  });

  /** An IP address written in the URL is never looked up, so it is vetted here. */
  function checkLiteralHost(url: URL): void {
    const host = hostOf(url);
    if (isIP(host) === 0) return;
    const reason = policy(host);
    if (reason !== null) throw new ImageFetchError("blocked_address", `the address ${host} is ${reason}`);
  }

  async function readBody(body: Dispatcher.ResponseData["body"], declaredLength: number | null): Promise<Buffer> {
    if (declaredLength !== null && declaredLength > maxBytes) {
      discard(body);
      throw new ImageFetchError("too_large", `it is larger than the ${maxBytes}-byte limit`);
    }
    const parts: Buffer[] = [];
    let size = 0;
    for await (const part of body as AsyncIterable<Buffer>) {
      size += part.byteLength;
      if (size > maxBytes) {
        discard(body);
        throw new ImageFetchError("too_large", `it is larger than the ${maxBytes}-byte limit`);
      }
      parts.push(part);
    }
    return Buffer.concat(parts, size);
  }

  /** One hop: a redirect's next URL, or the image. */
  async function fetchHop(url: URL, signal: AbortSignal): Promise<URL | FetchedImage> {
    checkLiteralHost(url);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: "GET",
        dispatcher: agent,
        signal,
        headers: { accept: "image/*", "user-agent": "Tollgate-ImageFetcher/1.0" },
      });
    } catch (error) {
      if (signal.aborted) throw error;
      throw connectionFailure(error, url);
    }
    const { statusCode, headers, body } = response;
    if (REDIRECTS.has(statusCode)) {
      discard(body);
      const location = headerValue(headers.location);
      if (location === undefined) {
        throw new ImageFetchError("http_status", `it answered HTTP ${statusCode} without a Location`);
      }
      const next = parseUrl(location, url);
      if (url.protocol === "https:" && next.protocol === "http:") {
        throw new ImageFetchError("unsupported_url", `it redirects from https to plain http (${describeUrl(next)})`);
      }
      return next;
    }
    if (statusCode < 200 || statusCode > 299) {
      discard(body);
      throw new ImageFetchError("http_status", `it answered HTTP ${statusCode}`);
    }
    const contentType = headerValue(headers["content-type"]);
    const mimeType = contentType?.split(";", 1)[0]?.trim().toLowerCase() ?? "";
    if (!mimeType.startsWith("image/")) {
      discard(body);
      throw new ImageFetchError(
        "not_an_image",
        `it is not an image (${mimeType === "" ? "no content type" : `content type ${mimeType}`})`,
      );
    }
    const length = Number(headerValue(headers["content-length"]));
    try {
      return { mimeType, data: await readBody(body, Number.isFinite(length) ? length : null) };
    } catch (error) {
      if (error instanceof ImageFetchError || signal.aborted) throw error;
      throw connectionFailure(error, url);
    }
  }

  async function follow(url: URL, signal: AbortSignal): Promise<FetchedImage> {
    let current = url;
    for (let redirects = 0; ; redirects += 1) {
      let result: URL | FetchedImage;
      try {
        result = await fetchHop(current, signal);
      } catch (error) {
        // Say where the redirects led, so that the client can see which URL was refused.
        if (redirects > 0 && error instanceof ImageFetchError) {
          throw new ImageFetchError(error.reason, `it redirects to ${describeUrl(current)}, and ${error.message}`);
        }
        throw error;
      }
      if (!(result instanceof URL)) return result;
      if (redirects >= maxRedirects) {
        throw new ImageFetchError("too_many_redirects", `it redirects more than ${maxRedirects} times`);
      }
      current = result;
    }
  }

  return {
    async fetch(text, signal) {
      const url = parseUrl(text);
      const deadline = AbortSignal.timeout(timeoutMs);
      const combined = signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
      try {
        return await follow(url, combined);
      } catch (error) {
        if (signal?.aborted === true) throw signal.reason;
        if (deadline.aborted) throw new ImageFetchError("timeout", `it did not download within ${timeoutMs} ms`);
        throw error;
      }
    },
    close: () => agent.close(),
  };
}
