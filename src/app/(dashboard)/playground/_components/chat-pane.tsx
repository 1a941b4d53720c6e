"use client";

import { useEffect, useRef } from "react";
import type { StreamedAnswer } from "~/components/playground/chat-stream";
import { AnswerView } from "./answer-view";
import { ModelPicker } from "./model-picker";
import type { PlaygroundModel } from "./playground-model";

export type PaneMessage =
  { id: number; role: "user"; content: string } | { id: number; role: "assistant"; answer: StreamedAnswer };

export interface Pane {
  key: number;
  modelId: string;
  messages: PaneMessage[];
}

/** One model's side of the conversation: its picker, then the turns, kept scrolled to the newest. */
export function ChatPane(props: {
  pane: Pane;
  /** "Model", or "Model 2" beside another: the picker's label; the pane is "Conversation" or "Conversation 2". */
  label: string;
  models: readonly PlaygroundModel[];
  busy: boolean;
  onModelChange: (modelId: string) => void;
  onRemove?: () => void;
}) {
  const { pane } = props;
  const log = useRef<HTMLDivElement>(null);
  const content = useRef<HTMLDivElement>(null);
  // Follows the newest text while the reader is at the bottom; someone who scrolled up to read stays put.
  const following = useRef(true);
  useEffect(() => {
    const element = log.current;
    const inner = content.current;
    if (element === null || inner === null) return;
    const observer = new ResizeObserver(() => {
      if (following.current) element.scrollTop = element.scrollHeight;
    });
    observer.observe(inner);
    return () => observer.disconnect();
  }, []);

  return (
    <section className="card chat-pane" aria-label={`Conversation${props.label.slice("Model".length)}`}>
      <div className="chat-pane__head">
        <ModelPicker
          label={props.label}
          models={props.models}
          value={pane.modelId}
          disabled={props.busy}
          onChange={props.onModelChange}
        />
        {props.onRemove !== undefined && (
          <button type="button" className="button button--ghost" onClick={props.onRemove} disabled={props.busy}>
            Remove
          </button>
        )}
      </div>
      <div
        ref={log}
        className="chat-pane__messages"
        role="log"
        aria-live="polite"
        tabIndex={0}
        onScroll={(event) => {
          const element = event.currentTarget;
          following.current = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
        }}
      >
        <div ref={content} className="chat-pane__content">
          {pane.messages.length === 0 && (
            <p className="muted chat-pane__empty">
              Send a message to start. Answers are billed to your balance at this model&apos;s prices, like API calls.
            </p>
          )}
          {pane.messages.map((message) =>
            message.role === "user" ? (
              <div key={message.id} className="chat-message chat-message--user">
                <span className="chat-message__role">You</span>
                <p className="chat-message__text">{message.content}</p>
              </div>
            ) : (
              <div key={message.id} className="chat-message chat-message--assistant">
                <span className="chat-message__role">Assistant</span>
                <AnswerView answer={message.answer} />
              </div>
            ),
          )}
        </div>
      </div>
    </section>
  );
}
