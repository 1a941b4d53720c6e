"use client";

import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatApproxUsd } from "~/components/dashboard/spend-sparkline";

const dayLabel = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });

interface Day {
  day: string;
  topUpsUsd: string;
  billedUsd: string;
  providerCostUsd: string;
  marginUsd: string;
}

/** Per UTC day: money in (top-ups) as bars, usage billed and its margin as lines. */
export function MoneyChart({ days }: { days: readonly Day[] }) {
  const points = days.map((day) => ({
    day: day.day,
    topUps: Number(day.topUpsUsd),
    billed: Number(day.billedUsd),
    margin: Number(day.marginUsd),
  }));
  if (points.every((point) => point.topUps === 0 && point.billed === 0))
    return <p className="muted">No top-ups or usage in the last 30 days.</p>;
  return (
    <div data-testid="money-chart">
      <ResponsiveContainer width="100%" height={240}>
        <ComposedChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 8 }}>
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
            formatter={(value, name) => [formatApproxUsd(Number(value)), name]}
          />
          <Legend wrapperStyle={{ fontSize: 13 }} />
          <Bar dataKey="topUps" name="Top-ups" fill="#16a34a" isAnimationActive={false} />
          <Line
            dataKey="billed"
            name="Usage billed"
            stroke="#4338ca"
            strokeWidth={2}
            dot={false}
            isAnimationActive={false}
          />
          <Line dataKey="margin" name="Margin" stroke="#d97706" strokeWidth={2} dot={false} isAnimationActive={false} />
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}
