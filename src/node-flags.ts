/**
 * V8 flags the production entry runs with: `npm start` passes them on its command line (package.json, checked
 * against this list by a test) and the bench starts the gateway with them, so that it measures what production runs.
 *
 * `--max-semi-space-size=64` (MiB): the gateway allocates fast (request and chunk objects, strings, promises) and its
 * calls in flight survive each young-generation collection, so with V8's default young generation it stopped for a
 * scavenge every few milliseconds under load, and each stop delays every request waiting on the event loop. A larger
 * young generation collects as often as it fills, a quarter as often here, for about the same work per collection.
 * Alternating bench runs at c=16: streaming time-to-first-byte added went from 1.70–2.24 ms to 1.18–1.27 ms, and
 * non-streamed gateway CPU per request from 131 µs to 121–125 µs. It costs up to 128 MiB more memory.
 *
 * `--no-liftoff`: WebAssembly (the embedded PGlite) is compiled by the optimising compiler only. By default V8 first
 * compiles each function with its baseline compiler and later optimises the hot ones, keeping both: idle, the embedded
 * gateway held about 80 MB more (352–363 MB against 275 MB, API only). Start-up takes about 2 s longer. It changes
 * nothing for JavaScript.
 */
export const PRODUCTION_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=64", "--no-liftoff"];
