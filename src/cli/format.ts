import { formatNanoAsUsd } from "~/server/gateway/billing/money";

/** Plain-text tables for people: one header row, columns padded to the widest cell. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

export function formatDate(date: Date | null): string {
  return date === null ? "-" : date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** JSON for `--json`: bigints (nano-USD) become decimal strings, since JSON numbers cannot hold them exactly. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === "bigint" ? item.toString() : item), 2);
}

/** `-$5.25`, exact to the nano-dollar. */
export function formatUsd(nano: bigint): string {
  return `${nano < 0n ? "-" : ""}$${formatNanoAsUsd(nano < 0n ? -nano : nano)}`;
}
