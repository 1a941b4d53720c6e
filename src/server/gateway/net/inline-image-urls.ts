import { errors } from "../errors";
import type { ChatCompletionRequest } from "../protocol/chat-completion-request";
import { ImageFetchError, type ImageFetcher } from "./safe-image-fetch";

/** How many distinct images are downloaded at once for one request. */
const CONCURRENCY = 4;
/** Every image of one request together, in bytes: Gemini refuses requests above 20 MB of inline data anyway. */
export const DEFAULT_MAX_TOTAL_IMAGE_BYTES = 20 * 1024 * 1024;

const REMOTE_URL = /^https?:\/\//i;

interface ImageReference {
  url: string;
  /** `messages[i].content[j].image_url.url` of its first use. */
  param: string;
}

/**
 * Rewrites a request's `image_url` parts that point at http(s) URLs into `data:` URLs, downloading each distinct URL
 * once with `fetchImage` (which enforces the address rules). A URL that cannot be used fails the whole request with
 * a 400 naming the part and saying why. Returns the request itself when it has no such images.
 */
export async function inlineImageUrls(
  request: ChatCompletionRequest,
  fetchImage: ImageFetcher,
  signal: AbortSignal,
  maxTotalBytes = DEFAULT_MAX_TOTAL_IMAGE_BYTES,
): Promise<ChatCompletionRequest> {
  const references = new Map<string, ImageReference>();
  request.messages.forEach((message, messageIndex) => {
    if (message.role !== "user" || typeof message.content === "string") return;
    message.content.forEach((part, partIndex) => {
      if (part.type !== "image_url" || !REMOTE_URL.test(part.image_url.url)) return;
      const { url } = part.image_url;
      if (!references.has(url)) {
        references.set(url, { url, param: `messages[${messageIndex}].content[${partIndex}].image_url.url` });
      }
    });
  });
  if (references.size === 0) return request;

  const dataUrls = new Map<string, string>();
  const pending = [...references.values()];
  // The first image that fails stops the others: the request fails whatever they bring.
  const giveUp = new AbortController();
  const fetchSignal = AbortSignal.any([signal, giveUp.signal]);
  let failure: { order: number; error: unknown } | null = null;
  let totalBytes = 0;
  const order = [...references.keys()];
  const fail = (reference: ImageReference, error: unknown) => {
    const position = order.indexOf(reference.url);
    if (failure === null || position < failure.order) failure = { order: position, error };
    pending.length = 0;
    giveUp.abort();
  };
  const worker = async () => {
    for (let reference = pending.shift(); reference !== undefined; reference = pending.shift()) {
      let image;
      try {
        image = await fetchImage(reference.url, fetchSignal);
      } catch (error) {
        if (signal.aborted || giveUp.signal.aborted) return;
        fail(
          reference,
          error instanceof ImageFetchError
            ? errors.invalidRequest(
                `The image at \`${reference.param}\` could not be used: ${error.message}.`,
                reference.param,
                "invalid_image_url",
              )
            : error,
        );
        return;
      }
      totalBytes += image.data.byteLength;
      if (totalBytes > maxTotalBytes) {
        fail(
          reference,
          errors.invalidRequest(
            `The images referenced by URL add up to more than the ${maxTotalBytes}-byte limit for one request.`,
            reference.param,
            "invalid_image_url",
          ),
        );
        return;
      }
      dataUrls.set(reference.url, `data:${image.mimeType};base64,${image.data.toString("base64")}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, references.size) }, worker));
  if (signal.aborted) throw errors.clientDisconnected();
  if (failure !== null) throw (failure as { error: unknown }).error;

  return {
    ...request,
    messages: request.messages.map((message) => {
      if (message.role !== "user" || typeof message.content === "string") return message;
      return {
        ...message,
        content: message.content.map((part) => {
          if (part.type !== "image_url") return part;
          const dataUrl = dataUrls.get(part.image_url.url);
          return dataUrl === undefined ? part : { ...part, image_url: { ...part.image_url, url: dataUrl } };
        }),
      };
    }),
  };
}
