/** Structured logging behind an interface so the core never writes to the console directly. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LEVELS)[number];

/** One JSON line per event on stderr. Errors are reduced to name and message: no stacks or secrets in logs. */
export function createJsonLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const threshold = LEVELS.indexOf(level);
  const log = (at: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS.indexOf(at) < threshold) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level: at, message };
    for (const [key, value] of Object.entries(fields ?? {})) {
      entry[key] = value instanceof Error ? { name: value.name, message: value.message } : value;
    }
    write(
      `${JSON.stringify(entry, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value))}\n`,
    );
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
