"use client";

import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatApproxUsd } from "~/components/dashboard/spend-sparkline";

const dayLabel = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });

/** An account's spend per UTC day (30 days, today last), with its requests in the tooltip. */
export function DailySpendChart({ days }: { days: readonly { day: string; costUsd: string; requests: number }[] }) {
  const points = days.map((day) => ({ day: day.day, spend: Number(day.costUsd), requests: day.requests }));
  if (points.every((point) => point.requests === 0)) return <p className="muted">No calls in the last 30 days.</p>;
  return (
    <div data-testid="account-spend-chart">
      <ResponsiveContainer width="100%" height={180}>
        <BarChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
          <CartesianGrid stroke="var(--color-border)" vertical={false} />
          <XAxis
            dataKey="day"
            tickFormatter={(day: string) => dayLabel.format(new Date(`${day}T00:00:00Z`))}
            tick={{ fontSize: 12, fill: "var(--color-muted)" }}
            minTickGap={16}
          />
          <YAxis tickFormatter={formatApproxUsd} tick={{ fontSize: 12, fill: "var(--color-muted)" }} width={64} />
          <Tooltip
            labelFormatter={(day) =>
              typeof day === "string" ? `${dayLabel.format(new Date(`${day}T00:00:00Z`))} (UTC)` : ""
            }
            formatter={(value, _name, item) => [
              `${formatApproxUsd(Number(value))} · ${(item.payload as { requests: number }).requests} requests`,
              "Spend",
            ]}
            cursor={{ fill: "rgb(67 56 202 / 0.06)" }}
          />
          <Bar dataKey="spend" fill="#4338ca" isAnimationActive={false} />
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
