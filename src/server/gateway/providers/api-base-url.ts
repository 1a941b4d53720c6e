/*
 * Where a channel's base URL meets a provider's API version.
 *
 * Anthropic's and Google's SDKs take the base URL without the API version and add it themselves
 * (`ANTHROPIC_BASE_URL=https://api.anthropic.com` → `/v1/messages`; the Gemini SDKs' base URL
 * `https://generativelanguage.googleapis.com` → `/v1beta/models/…`). Tollgate first documented the form with the version
 * (`https://api.anthropic.com/v1`). Both forms are accepted, and the choice between them is made here, when the
 * adapter builds the request, rather than when the URL is stored: every way a base URL arrives (the environment, the
 * CLI, the admin API, a row written by an older version) ends up in the same `channels.base_url` column, so normalising
 * at the single place that reads it covers them all, including rows nobody will ever edit again, without a migration.
 * The stored value stays what the operator gave, so `channel list` shows it and bootstrap's comparison with the
 * environment still holds.
 *
 * The rule: a base URL whose last path segment is an API version (`v1`, `v1beta`, `v1alpha`, `v2`, …) is used as
 * given; any other one gets the adapter's version appended, as the provider's SDK would. This includes a proxy with a
 * path prefix: `https://proxy.example.com/anthropic` is called at `/anthropic/v1/messages`, which is what the Anthropic
 * SDK does with that base URL (and what proxies such as Cloudflare AI Gateway expect); a proxy that serves the API
 * without a version in its path cannot be addressed that way, and needs none of the kinds that add one.
 *
 * OpenAI's SDK takes the base URL with `/v1` (`OPENAI_BASE_URL=https://api.openai.com/v1`), which is already the form
 * Tollgate uses, so the OpenAI and OpenAI-compatible adapters use it as given.
 */

/** A path segment that names an API version: `v1`, `v1beta`, `v1alpha`, `v1beta1`, `v2`. */
const VERSION_SEGMENT = /^v\d+(?:(?:alpha|beta)\d*)?$/;

/**
 * `baseUrl` without trailing slashes, with `/<versionSegment>` appended unless its path already ends in a version.
 * `("https://api.anthropic.com", "v1")` and `("https://api.anthropic.com/v1/", "v1")` both give
 * `https://api.anthropic.com/v1`.
 */
export function versionedBaseUrl(baseUrl: string, versionSegment: string): string {
  const trimmed = baseUrl.replace(/\/+$/, "");
  const authority = trimmed.indexOf("://");
  // The host is not a path segment: `https://v1.example.com` has no version in its path.
  const pathStart = authority === -1 ? -1 : trimmed.indexOf("/", authority + 3);
  const lastSegment = pathStart === -1 ? "" : trimmed.slice(trimmed.lastIndexOf("/") + 1);
  return VERSION_SEGMENT.test(lastSegment) ? trimmed : `${trimmed}/${versionSegment}`;
}
