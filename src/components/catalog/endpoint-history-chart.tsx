"use client";

import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface HistorySeries {
  /** Legend label: the provider (and its channel number when one provider serves the model twice). */
  label: string;
  hours: { hour: number; uptimePercent: number | null; firstTokenP50Ms: number | null; requests: number }[];
}

const PALETTE = ["#4338ca", "#0891b2", "#16a34a", "#d97706", "#db2777", "#7c3aed"];
const hourLabel = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone: "UTC" });

type Metric = "uptimePercent" | "firstTokenP50Ms";

/** One line per provider over the last 24 hours (UTC): uptime or median time to the first token. */
export function EndpointHistoryChart({ series, metric }: { series: HistorySeries[]; metric: Metric }) {
  const hours = series[0]?.hours.map((point) => point.hour) ?? [];
  const points = hours.map((hour, index) => {
    const point: Record<string, number | null> = { hour };
    series.forEach((line, lineIndex) => {
      point[`s${lineIndex}`] = line.hours[index]?.[metric] ?? null;
    });
    return point;
  });
  const uptime = metric === "uptimePercent";
  if (points.every((point) => series.every((_, lineIndex) => point[`s${lineIndex}`] === null))) {
    return (
      <p className="muted small" data-testid={`history-${metric}-empty`}>
        {uptime ? "No calls in the last 24 hours." : "No streamed answers in the last 24 hours to time."}
      </p>
    );
  }
  // Fast endpoints answer within a few milliseconds: keep a decimal there so the axis ticks stay distinct.
  const format = (value: number) =>
    uptime ? `${Number(value.toFixed(2))}%` : `${Number(value.toFixed(value < 10 ? 1 : 0))} ms`;
  return (
    <div className="history-chart" data-testid={`history-${metric}`}>
      <ResponsiveContainer width="100%" height={220}>
        <LineChart data={points} margin={{ top: 8, right: 12, bottom: 0, left: 8 }}>
          <CartesianGrid stroke="var(--color-border)" vertical={false} />
          <XAxis
            dataKey="hour"
            tickFormatter={(hour: number) => hourLabel.format(new Date(hour))}
            tick={{ fontSize: 12, fill: "var(--color-muted)" }}
            minTickGap={24}
          />
          <YAxis
            domain={uptime ? [0, 100] : [0, "auto"]}
            tickFormatter={format}
            tick={{ fontSize: 12, fill: "var(--color-muted)" }}
            width={64}
          />
          <Tooltip
            labelFormatter={(hour) => (typeof hour === "number" ? `${hourLabel.format(new Date(hour))} UTC` : "")}
            formatter={(value, name) => [value === null ? "no calls" : format(Number(value)), name]}
          />
          <Legend wrapperStyle={{ fontSize: 13 }} />
          {series.map((line, index) => (
            <Line
              key={line.label}
              type="monotone"
              dataKey={`s${index}`}
              name={line.label}
              stroke={PALETTE[index % PALETTE.length]}
              strokeWidth={2}
              // An hour between two without calls has no neighbours to join: its dot still shows it.
              dot={{ r: 2.5, strokeWidth: 0, fill: PALETTE[index % PALETTE.length] }}
              connectNulls={false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
