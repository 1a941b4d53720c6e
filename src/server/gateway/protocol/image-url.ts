/*
 * The rule for an `image_url` part's URL, checked by the request schema so that every provider path gets it, those
 * that pass data URLs straight through included: a request with an image no provider can read is refused with a 400
 * naming the part, before anything is dispatched or billed.
 *
 * Accepted: an https URL, or a base64 data URL of an image type: `data:image/<type>[;<parameter>]*;base64,<data>`,
 * the media type case-insensitive (`image/PNG`), parameters such as `;charset=…` or `;name=…` allowed and ignored.
 * Refused:
 * - another media type (`data:text/plain;…`, `data:application/pdf;…`, or none, which means text/plain): PDFs and text
 *   belong in a `file` part;
 * - a data URL that is not base64 (`data:image/svg+xml,%3Csvg…`): the native adapters need base64 to send the bytes,
 *   and none of the providers takes SVG, the only image format written that way;
 * - broken base64: base64 is RFC 4648's standard alphabet, padded (the length a multiple of 4, `=` only as the last one
 *   or two characters), without whitespace or the URL-safe `-` and `_`, which is what providers decode.
 *
 * The check is linear and allocates nothing for the data: one regex search for a character outside the alphabet (a
 * native scan, a few milliseconds for a 6 MB image), one search for `=`, the length. Requests without images never
 * reach it; decoding into a Buffer would copy every image for nothing.
 */

const HTTPS_URL = /^https:\/\/[^\s]+$/i;
const DATA_SCHEME = /^data:/i;
/** `image/` and a subtype of RFC 6838's restricted-name characters. */
const IMAGE_MEDIA_TYPE = /^image\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i;
/** Stateful (`lastIndex`) so that the search starts after the header without slicing the data; set before each use. */
const NOT_BASE64 = /[^A-Za-z0-9+/=]/g;
/** How much of a client's media type a message repeats. */
const SHOWN_TYPE_LENGTH = 60;

const ACCEPTED = "an https URL or a data:image/<type>;base64,<data> URL";

/** What is wrong with an image URL, as a phrase that follows "Invalid value for `…`: "; null when it is acceptable. */
export function imageUrlProblem(url: string): string | null {
  if (DATA_SCHEME.test(url)) return dataUrlProblem(url);
  return HTTPS_URL.test(url) ? null : `must be ${ACCEPTED}`;
}

function dataUrlProblem(url: string): string | null {
  const comma = url.indexOf(",");
  if (comma === -1) return `must be ${ACCEPTED} (this data URL has no comma before its data)`;
  const parameters = url.slice("data:".length, comma).split(";");
  const mediaType = parameters[0]!;
  if (!IMAGE_MEDIA_TYPE.test(mediaType)) {
    const shown = mediaType === "" ? "none (text/plain)" : JSON.stringify(mediaType.slice(0, SHOWN_TYPE_LENGTH));
    return (
      `must be an image: this data URL's media type is ${shown}; send image/png, image/jpeg, image/gif, image/webp ` +
      `or another image/<type> as data:image/<type>;base64,<data> (PDFs and text go in a \`file\` part)`
    );
  }
  if (parameters.length < 2 || parameters.at(-1)!.toLowerCase() !== "base64") {
    return `must be base64-encoded: send data:${mediaType};base64,<data> (URL-encoded data URLs are not accepted)`;
  }
  return base64Problem(url, comma + 1);
}

/** Whether `text` from `start` to its end is padded standard base64 (RFC 4648 §4). */
function base64Problem(text: string, start: number): string | null {
  const length = text.length - start;
  if (length === 0) return "has no image data after `base64,`";
  NOT_BASE64.lastIndex = start;
  const stray = NOT_BASE64.exec(text);
  if (stray !== null) {
    return (
      `is not valid base64: ${JSON.stringify(stray[0])} at character ${stray.index - start} of the data (base64 is ` +
      "A-Z, a-z, 0-9, + and /, padded with =, without spaces or line breaks)"
    );
  }
  const padding = text.indexOf("=", start);
  if (padding !== -1 && (padding < text.length - 2 || text.charCodeAt(text.length - 1) !== 0x3d)) {
    return "is not valid base64: `=` may only pad the end of the data";
  }
  if (length % 4 !== 0) {
    return `is not valid base64: its ${length} characters are not a multiple of 4 (cut short, or without its = padding?)`;
  }
  return null;
}
