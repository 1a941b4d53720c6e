"use client";

import { useQuery } from "@tanstack/react-query";
import ReactMarkdown, { type Components } from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";
import type { StreamedAnswer } from "~/components/playground/chat-stream";
import { formatUsd } from "~/components/ui/format";
import { useTRPC } from "~/trpc/react";

const integer = new Intl.NumberFormat("en-US");

/** Links in an answer leave the playground in a new tab; the model chose them, not us. */
const MARKDOWN_COMPONENTS: Components = {
  a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noopener noreferrer nofollow" />,
};

/** The answer as Markdown: GitHub's flavour (tables, task lists), code highlighted; raw HTML is shown as text. */
function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        rehypePlugins={[[rehypeHighlight, { detect: true }]]}
        components={MARKDOWN_COMPONENTS}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}

/** USD from the stream's `usage.cost` (a float), as a decimal without float noise, for until the bill is read. */
function usdFromNumber(cost: number): string {
  return formatUsd(cost.toFixed(9).replace(/0+$/, "").replace(/\.$/, ""));
}

/**
 * Tokens and price of a finished answer. The price shown is what was billed, read back from the request log (exact,
 * and known for a stopped stream too, which has no usage chunk); the stream's own usage stands in until then.
 */
function AnswerFooter({ answer }: { answer: StreamedAnswer }) {
  const trpc = useTRPC();
  const billed = useQuery({
    ...trpc.activity.generation.queryOptions({ id: answer.generationId ?? "" }),
    enabled: answer.generationId !== null,
    // The usage writer commits within a moment of the answer's end.
    retry: 10,
    retryDelay: 300,
    staleTime: Infinity,
  });
  const record = billed.data;
  const usage =
    record !== undefined
      ? {
          promptTokens: record.promptTokens,
          completionTokens: record.completionTokens,
          reasoningTokens: record.reasoningTokens,
          cost: formatUsd(record.costUsd),
        }
      : answer.usage === null
        ? null
        : { ...answer.usage, cost: usdFromNumber(answer.usage.cost) };
  return (
    <footer className="answer__footer small muted">
      {answer.stopped && <span className="badge badge--revoked">Stopped</span>}
      {answer.finishReason === "length" && <span className="badge badge--revoked">Cut at max tokens</span>}
      {answer.provider !== null && <span>{answer.provider}</span>}
      {usage !== null && (
        <>
          <span>
            {integer.format(usage.promptTokens)} in · {integer.format(usage.completionTokens)} out
            {usage.reasoningTokens > 0 && ` (${integer.format(usage.reasoningTokens)} reasoning)`}
          </span>
          <span className="answer__cost" title={record !== undefined ? "Billed" : "Reported by the stream"}>
            {usage.cost}
          </span>
        </>
      )}
      {usage === null && answer.generationId !== null && !billed.isError && <span>Reading the bill…</span>}
      {answer.droppedParameters.length > 0 && (
        <span>Not supported by this provider, left out: {answer.droppedParameters.join(", ")}</span>
      )}
    </footer>
  );
}

/** One assistant answer: reasoning (collapsed), the text, any error, and once done what it cost. */
export function AnswerView({ answer }: { answer: StreamedAnswer }) {
  const thinking = !answer.done && answer.content === "";
  return (
    <div className="answer" aria-busy={!answer.done}>
      {answer.reasoning !== "" && (
        <details className="answer__reasoning">
          <summary>{thinking ? "Reasoning…" : "Reasoning"}</summary>
          <div className="answer__reasoning-text">{answer.reasoning}</div>
        </details>
      )}
      {answer.content !== "" && <Markdown text={answer.content} />}
      {thinking && answer.reasoning === "" && <p className="muted small">Waiting for the first token…</p>}
      {answer.done && answer.content === "" && answer.error === null && !answer.stopped && (
        <p className="muted small">The model answered with no text.</p>
      )}
      {answer.error !== null && (
        <p className="alert alert--error" role="alert">
          {answer.error}
        </p>
      )}
      {answer.done && answer.error === null && <AnswerFooter answer={answer} />}
    </div>
  );
}
