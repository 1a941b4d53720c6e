import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { EndpointHistoryChart, type HistorySeries } from "~/components/catalog/endpoint-history-chart";
import { CodeSamples } from "~/components/ui/code-samples";
import { CopyButton } from "~/components/ui/copy-button";
import { formatTokenCount, formatUsd, shiftDecimal } from "~/components/ui/format";
import { requestContainer } from "~/server/request-container";
import { endpointsInRoutingOrder } from "~/server/gateway/handlers/list-models";
import { publicOrigin } from "~/server/public-origin";
import { endpointHistoryKey, readEndpointHistory } from "~/server/services/endpoint-history";
import "../../catalog.css";

type Params = Promise<{ author: string; slug: string }>;

async function findModel(params: Params) {
  const { author, slug } = await params;
  const id = `${decodeURIComponent(author)}/${decodeURIComponent(slug)}`;
  const container = await requestContainer();
  const model = container.gateway.publicCatalog.list().find((entry) => entry.id === id);
  return { container, id, model };
}

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { model } = await findModel(params);
  return model === undefined ? { title: "Model not found" } : { title: model.name, description: model.description };
}

const releaseDate = new Intl.DateTimeFormat("en-GB", {
  day: "numeric",
  month: "long",
  year: "numeric",
  timeZone: "UTC",
});

function codeSamples(origin: string, id: string) {
  const baseUrl = `${origin}/v1`;
  return [
    {
      label: "curl",
      code: [
        `curl ${baseUrl}/chat/completions \\`,
        `  -H "Authorization: Bearer $TOLLGATE_API_KEY" \\`,
        `  -H "Content-Type: application/json" \\`,
        `  -d '{"model": "${id}", "messages": [{"role": "user", "content": "Hello!"}]}'`,
      ].join("\n"),
    },
    {
      label: "Python",
      code: [
        "import os",
        "from openai import OpenAI",
        "",
        `client = OpenAI(base_url="${baseUrl}", api_key=os.environ["TOLLGATE_API_KEY"])`,
        "completion = client.chat.completions.create(",
        `    model="${id}",`,
        '    messages=[{"role": "user", "content": "Hello!"}],',
        ")",
        "print(completion.choices[0].message.content)",
      ].join("\n"),
    },
    {
      label: "JavaScript",
      code: [
        'import OpenAI from "openai";',
        "",
        `const client = new OpenAI({ baseURL: "${baseUrl}", apiKey: process.env.TOLLGATE_API_KEY });`,
        "const completion = await client.chat.completions.create({",
        `  model: "${id}",`,
        '  messages: [{ role: "user", content: "Hello!" }],',
        "});",
        "console.log(completion.choices[0].message.content);",
      ].join("\n"),
    },
  ];
}

const perMillion = (perToken: string) => formatUsd(shiftDecimal(perToken, 6));
const dash = <span className="muted">–</span>;

/** Seconds as people read latencies: "1.24 s", or "180 ms" under a second ("0.8 ms" for the offline demo). */
function formatSeconds(seconds: number): string {
  if (seconds >= 1) return `${seconds.toFixed(2)} s`;
  const ms = seconds * 1000;
  return `${Number(ms.toFixed(ms < 10 ? 1 : 0))} ms`;
}

export default async function ModelPage({ params }: { params: Params }) {
  const { container, id, model } = await findModel(params);
  const catalogModel = container.catalog.getModel(id);
  if (model === undefined || catalogModel === undefined) notFound();
  const endpoints = container.gateway.publicCatalog.endpoints(id)?.data.endpoints ?? [];
  // The same order as `endpoints`, which carries no channel ids: the history is read per channel.
  const ordered = endpointsInRoutingOrder(catalogModel);
  const refs = ordered.map((endpoint) => ({ channelId: endpoint.channel.id, upstreamModel: endpoint.upstreamModel }));
  const [history, origin] = await Promise.all([readEndpointHistory(container.db, refs, Date.now()), publicOrigin()]);
  const providerCounts = new Map<string, number>();
  const series: HistorySeries[] = endpoints.map((endpoint, index) => {
    const seen = (providerCounts.get(endpoint.provider_name) ?? 0) + 1;
    providerCounts.set(endpoint.provider_name, seen);
    return {
      label: seen === 1 ? endpoint.provider_name : `${endpoint.provider_name} (${seen})`,
      hours: history.get(endpointHistoryKey(refs[index]!)) ?? [],
    };
  });
  const anyCalls = series.some((line) => line.hours.some((hour) => hour.requests > 0));
  const prices = model.pricing_per_million_usd;
  const priceRows: [string, string | null, string][] = [
    ["Input", prices.prompt, "per 1M tokens"],
    ["Output", prices.completion, "per 1M tokens"],
    ["Cache read", prices.input_cache_read, "per 1M tokens"],
    ["Cache write", prices.input_cache_write, "per 1M tokens"],
    ["Reasoning", prices.internal_reasoning, "per 1M tokens"],
    ["Request", prices.request, "per request"],
    ["Image", prices.image, "per input image"],
  ];

  return (
    <article className="model-page">
      <p className="small">
        <Link href="/models">← All models</Link>
      </p>
      <div className="page-heading">
        <h1>{model.name}</h1>
        <div className="model-page__id">
          <code data-testid="model-id">{model.id}</code>
          <CopyButton text={model.id} label="Copy id" />
          {model.architecture.output_modalities.includes("text") && (
            <Link className="button button--secondary" href={`/playground?model=${encodeURIComponent(model.id)}`}>
              Try in the playground
            </Link>
          )}
        </div>
        <p className="muted small">
          By {model.owned_by} · released {releaseDate.format(new Date(model.created * 1000))} ·{" "}
          {formatTokenCount(model.context_length)} context
          {model.top_provider.max_completion_tokens !== null &&
            ` · ${formatTokenCount(model.top_provider.max_completion_tokens)} max output`}{" "}
          · {model.architecture.input_modalities.join(", ")} in, {model.architecture.output_modalities.join(", ")} out
        </p>
        {model.description !== "" && <p>{model.description}</p>}
      </div>

      <div className="model-page__grid">
        <section className="card" aria-labelledby="prices-heading">
          <h2 className="card__title" id="prices-heading">
            Prices
          </h2>
          <p className="muted small">
            What a call is charged, from the cheapest provider; each provider&apos;s are below.
          </p>
          <table className="table">
            <tbody>
              {priceRows
                .filter(([, value]) => value !== null)
                .map(([label, value, unit]) => (
                  <tr key={label}>
                    <th scope="row">{label}</th>
                    <td className="table__number">{formatUsd(value!)}</td>
                    <td className="muted small">{unit}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </section>

        <section className="card" aria-labelledby="parameters-heading">
          <h2 className="card__title" id="parameters-heading">
            Parameters
          </h2>
          <ul className="chip-list" aria-label="Supported parameters">
            {model.supported_parameters.map((parameter) => (
              <li key={parameter} className="chip">
                <code>{parameter}</code>
              </li>
            ))}
          </ul>
        </section>
      </div>

      <section className="card" aria-labelledby="providers-heading">
        <h2 className="card__title" id="providers-heading">
          Providers
        </h2>
        <p className="muted small">
          In default routing order: a call goes to the first that is up and falls back to the next. Uptime over the last
          day; latency (to the first token) and throughput are medians over the last 30 minutes.
        </p>
        <div className="table-wrap">
          <table className="table table--stack" data-testid="provider-table">
            <thead>
              <tr>
                <th scope="col">Provider</th>
                <th scope="col" className="table__number">
                  Input / 1M
                </th>
                <th scope="col" className="table__number">
                  Output / 1M
                </th>
                <th scope="col" className="table__number">
                  Uptime
                </th>
                <th scope="col" className="table__number">
                  Latency
                </th>
                <th scope="col" className="table__number">
                  Throughput
                </th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {endpoints.map((endpoint, index) => (
                <tr key={`${endpoint.provider_name}-${index}`}>
                  <td data-label="Provider">{series[index]?.label}</td>
                  <td data-label="Input / 1M" className="table__number">
                    {perMillion(endpoint.pricing.prompt)}
                  </td>
                  <td data-label="Output / 1M" className="table__number">
                    {perMillion(endpoint.pricing.completion)}
                  </td>
                  <td data-label="Uptime" className="table__number">
                    {endpoint.uptime_last_1d === null ? dash : `${endpoint.uptime_last_1d}%`}
                  </td>
                  <td data-label="Latency" className="table__number">
                    {endpoint.latency_last_30m === null ? dash : formatSeconds(endpoint.latency_last_30m.p50)}
                  </td>
                  <td data-label="Throughput" className="table__number">
                    {endpoint.throughput_last_30m === null ? dash : `${endpoint.throughput_last_30m.p50} tok/s`}
                  </td>
                  <td data-label="Status">
                    {endpoint.status === 0 ? (
                      <span className="badge badge--active">Up</span>
                    ) : (
                      <span className="badge badge--revoked">Cooling down</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section className="card" aria-labelledby="history-heading">
        <h2 className="card__title" id="history-heading">
          Last 24 hours
        </h2>
        {anyCalls ? (
          <div className="model-page__charts">
            <div>
              <h3 className="small muted">Uptime</h3>
              <EndpointHistoryChart series={series} metric="uptimePercent" />
            </div>
            <div>
              <h3 className="small muted">Median time to first token</h3>
              <EndpointHistoryChart series={series} metric="firstTokenP50Ms" />
            </div>
          </div>
        ) : (
          <p className="muted">No calls in the last 24 hours: uptime and latency appear here once the model is used.</p>
        )}
      </section>

      <section className="card" aria-labelledby="use-it-heading">
        <h2 className="card__title" id="use-it-heading">
          Use it
        </h2>
        <p className="muted small">
          Any OpenAI client works: set its base URL to <code>{origin}/v1</code> and use a key from your dashboard.
        </p>
        <CodeSamples samples={codeSamples(origin, model.id)} />
      </section>
    </article>
  );
}
