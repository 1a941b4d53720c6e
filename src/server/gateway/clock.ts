/** Milliseconds since the epoch; injected so tests control time. A leaf module: whatever uses time imports it. */
export type Clock = () => number;
