"use client";

import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "~/server/api/root";

type Summary = inferRouterOutputs<AppRouter>["activity"]["summary"];

/** Distinct at a glance and readable on white; the last one is "Other". */
const PALETTE = ["#4338ca", "#0891b2", "#16a34a", "#d97706", "#db2777", "#7c3aed", "#dc2626", "#0d9488", "#71717a"];

const hourLabel = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: "UTC" });
const dayLabel = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
const fullLabel = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  timeZone: "UTC",
});

/** Small amounts keep their significant digits ($0.000036), large ones cents. */
function usd(value: number): string {
  if (value === 0) return "$0";
  if (value >= 1) return `$${value.toFixed(2)}`;
  return `$${value.toPrecision(2).replace(/0+$/, "").replace(/\.$/, "")}`;
}

/** Spend per bucket of the window, stacked by the chosen grouping, with a legend and a tooltip per bar. */
export function SpendChart({ summary }: { summary: Summary }) {
  const byHour = summary.window.bucket === "hour";
  const points = summary.series.map((point) => ({ at: point.at, requests: point.requests, ...point.spend }));
  return (
    <div className="spend-chart" data-testid="spend-chart">
      <ResponsiveContainer width="100%" height={280}>
        <BarChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
          <CartesianGrid stroke="var(--color-border)" vertical={false} />
          <XAxis
            dataKey="at"
            tickFormatter={(at: string) => (byHour ? hourLabel : dayLabel).format(new Date(at))}
            tick={{ fontSize: 12, fill: "var(--color-muted)" }}
            minTickGap={16}
          />
          <YAxis tickFormatter={usd} tick={{ fontSize: 12, fill: "var(--color-muted)" }} width={64} />
          <Tooltip
            labelFormatter={(at) => (typeof at === "string" ? `${fullLabel.format(new Date(at))} UTC` : "")}
            formatter={(value, name) => [usd(Number(value)), name]}
            cursor={{ fill: "rgb(67 56 202 / 0.06)" }}
          />
          <Legend wrapperStyle={{ fontSize: 13 }} />
          {summary.groups.map((group, index) => (
            <Bar
              key={group.id}
              dataKey={group.id}
              name={group.label}
              stackId="spend"
              fill={group.id === "other" ? PALETTE.at(-1) : PALETTE[index % (PALETTE.length - 1)]}
              isAnimationActive={false}
            />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
