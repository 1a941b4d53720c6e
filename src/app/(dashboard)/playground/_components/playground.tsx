"use client";

import Link from "next/link";
import { useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import {
  buildChatRequest,
  DEFAULT_SETTINGS,
  type PlaygroundSettings,
  type Turn,
} from "~/components/playground/chat-request";
import { emptyAnswer, readChatStream, type StreamedAnswer } from "~/components/playground/chat-stream";
import { ChatPane, type Pane, type PaneMessage } from "./chat-pane";
import type { PlaygroundModel } from "./playground-model";
import { SettingsPanel } from "./settings-panel";

const CHAT_PATH = "/api/playground/chat";

function turnsOf(messages: readonly PaneMessage[]): Turn[] {
  return messages.map((message) =>
    message.role === "user"
      ? { role: "user", content: message.content }
      : { role: "assistant", content: message.answer.content },
  );
}

/** What the fetch itself ended with when no answer arrived: the stop button before the first byte, or no network. */
function unanswered(error: unknown): StreamedAnswer {
  const stopped = error instanceof Error && error.name === "AbortError";
  return { ...emptyAnswer(), done: true, stopped, error: stopped ? null : "Could not reach the server." };
}

/**
 * The playground: one conversation sent to one model, or to two side by side. Each answer streams in through the
 * same gateway path as /v1 (billed to the balance, listed in activity as "Playground"); Stop aborts every stream in
 * flight, which aborts the upstream calls and bills what they had produced.
 */
export function Playground({ models, initialModelId }: { models: PlaygroundModel[]; initialModelId: string }) {
  const nextId = useRef(0);
  const newId = () => (nextId.current += 1);
  const [settings, setSettings] = useState<PlaygroundSettings>(DEFAULT_SETTINGS);
  const [panes, setPanes] = useState<Pane[]>(() => [{ key: 0, modelId: initialModelId, messages: [] }]);
  const [draft, setDraft] = useState("");
  const [inFlight, setInFlight] = useState(0);
  const abort = useRef<AbortController | null>(null);
  const busy = inFlight > 0;

  const modelNamed = (id: string) => models.find((model) => model.id === id);
  const chosen = panes.map((pane) => modelNamed(pane.modelId)).filter((model) => model !== undefined);

  function setPane(key: number, change: (pane: Pane) => Pane) {
    setPanes((current) => current.map((pane) => (pane.key === key ? change(pane) : pane)));
  }

  function setAnswer(paneKey: number, messageId: number, answer: StreamedAnswer) {
    setPane(paneKey, (pane) => ({
      ...pane,
      messages: pane.messages.map((message) =>
        message.id === messageId && message.role === "assistant" ? { ...message, answer } : message,
      ),
    }));
  }

  async function ask(pane: Pane, replyId: number, turns: Turn[], signal: AbortSignal): Promise<void> {
    try {
      const response = await fetch(CHAT_PATH, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(buildChatRequest(pane.modelId, settings, turns)),
        signal,
      });
      await readChatStream(response, (answer) => setAnswer(pane.key, replyId, answer));
    } catch (error) {
      setAnswer(pane.key, replyId, unanswered(error));
    } finally {
      setInFlight((count) => count - 1);
    }
  }

  function send(event?: FormEvent) {
    event?.preventDefault();
    const text = draft.trim();
    if (text === "" || busy) return;
    const controller = new AbortController();
    abort.current = controller;
    const asks = panes.map((pane) => ({
      pane,
      user: { id: newId(), role: "user" as const, content: text },
      reply: { id: newId(), role: "assistant" as const, answer: emptyAnswer() },
    }));
    setDraft("");
    setPanes((current) =>
      current.map((pane) => {
        const asked = asks.find((candidate) => candidate.pane.key === pane.key);
        return asked === undefined ? pane : { ...pane, messages: [...pane.messages, asked.user, asked.reply] };
      }),
    );
    setInFlight(asks.length);
    for (const { pane, reply } of asks) {
      void ask(pane, reply.id, [...turnsOf(pane.messages), { role: "user", content: text }], controller.signal);
    }
  }

  function onComposerKey(event: KeyboardEvent<HTMLTextAreaElement>) {
    // Enter sends, Shift+Enter starts a new line (as in most chat apps); not while an IME is composing.
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      send();
    }
  }

  function compare() {
    const other = models.find((model) => model.id !== panes[0]?.modelId) ?? models[0];
    if (other === undefined) return;
    setPanes((current) => [...current, { key: newId(), modelId: other.id, messages: [] }]);
  }

  if (models.length === 0) {
    return (
      <p className="alert alert--info">
        No chat model is available yet. An operator adds models and their providers; see the{" "}
        <Link href="/models">catalog</Link>.
      </p>
    );
  }

  return (
    <div className="playground">
      <SettingsPanel
        settings={settings}
        onChange={(change) => setSettings((current) => ({ ...current, ...change }))}
        withoutReasoning={chosen.filter((model) => !model.supportsReasoning).map((model) => model.name)}
        withoutJsonMode={chosen.filter((model) => !model.supportsStructuredOutputs).map((model) => model.name)}
      />
      <div className={`playground__panes${panes.length > 1 ? " playground__panes--two" : ""}`}>
        {panes.map((pane, index) => (
          <ChatPane
            key={pane.key}
            pane={pane}
            label={panes.length > 1 ? `Model ${index + 1}` : "Model"}
            models={models}
            busy={busy}
            onModelChange={(modelId) => setPane(pane.key, (current) => ({ ...current, modelId }))}
            {...(index > 0 ? { onRemove: () => setPanes((current) => current.filter((p) => p.key !== pane.key)) } : {})}
          />
        ))}
      </div>
      <form className="card playground__composer" onSubmit={send}>
        {/* Labelled by id, not by nesting: a label around a text box would name it after its own text as well. */}
        <div className="field">
          <label className="field__label" htmlFor="playground-message">
            Message
          </label>
          <textarea
            id="playground-message"
            className="input"
            rows={3}
            placeholder="Ask anything. Enter sends, Shift+Enter adds a line."
            value={draft}
            onChange={(event) => setDraft(event.target.value)}
            onKeyDown={onComposerKey}
          />
        </div>
        <div className="playground__actions">
          {busy ? (
            <button type="button" className="button button--danger" onClick={() => abort.current?.abort()}>
              Stop
            </button>
          ) : (
            <button type="submit" className="button button--primary" disabled={draft.trim() === ""}>
              Send
            </button>
          )}
          {panes.length === 1 ? (
            <button type="button" className="button button--secondary" onClick={compare} disabled={busy}>
              Compare with another model
            </button>
          ) : null}
          <button
            type="button"
            className="button button--ghost"
            disabled={busy || panes.every((pane) => pane.messages.length === 0)}
            onClick={() => setPanes((current) => current.map((pane) => ({ ...pane, messages: [] })))}
          >
            Clear conversation
          </button>
          <Link href="/activity" className="small playground__activity-link">
            Playground calls in Activity
          </Link>
        </div>
      </form>
    </div>
  );
}
