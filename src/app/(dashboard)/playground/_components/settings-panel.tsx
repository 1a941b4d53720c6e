"use client";

import {
  REASONING_EFFORT_CHOICES,
  type PlaygroundSettings,
  type ReasoningEffortChoice,
} from "~/components/playground/chat-request";
import { SelectField } from "~/components/ui/select-field";

/** An optional number field's text as a number, null when empty (the model's default). */
function numberOrNull(text: string): number | null {
  if (text.trim() === "") return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** The request's settings, shared by both sides of a comparison so that only the model differs. */
export function SettingsPanel(props: {
  settings: PlaygroundSettings;
  onChange: (change: Partial<PlaygroundSettings>) => void;
  /** Chosen models that take no reasoning or JSON mode, named in the hints (the gateway leaves those out for them). */
  withoutReasoning: readonly string[];
  withoutJsonMode: readonly string[];
}) {
  const { settings, onChange } = props;
  return (
    <section className="card playground__settings" aria-labelledby="playground-settings-heading">
      <h2 id="playground-settings-heading" className="card__title">
        Settings
      </h2>
      <div className="form form--tight">
        <div className="field">
          <label className="field__label" htmlFor="playground-system-prompt">
            System prompt
          </label>
          <textarea
            id="playground-system-prompt"
            className="input"
            rows={4}
            placeholder="You are a helpful assistant."
            value={settings.systemPrompt}
            onChange={(event) => onChange({ systemPrompt: event.target.value })}
          />
        </div>
        <div className="field-row">
          <label className="field">
            <span className="field__label">Temperature</span>
            <input
              className="input"
              type="number"
              min={0}
              max={2}
              step={0.1}
              placeholder="Default"
              value={settings.temperature ?? ""}
              onChange={(event) => onChange({ temperature: numberOrNull(event.target.value) })}
            />
          </label>
          <label className="field">
            <span className="field__label">Max tokens</span>
            <input
              className="input"
              type="number"
              min={1}
              step={1}
              placeholder="Default"
              value={settings.maxTokens ?? ""}
              onChange={(event) => {
                const value = numberOrNull(event.target.value);
                onChange({ maxTokens: value === null ? null : Math.max(1, Math.round(value)) });
              }}
            />
          </label>
        </div>
        <SelectField
          id="playground-reasoning"
          label="Reasoning effort"
          value={settings.reasoningEffort ?? ""}
          choices={[
            { value: "", label: "Model default" },
            ...REASONING_EFFORT_CHOICES.map((effort) => ({ value: effort, label: effort })),
          ]}
          onChange={(value) => onChange({ reasoningEffort: value === "" ? null : (value as ReasoningEffortChoice) })}
        />
        {settings.reasoningEffort !== null && props.withoutReasoning.length > 0 && (
          <p className="field__hint">{props.withoutReasoning.join(", ")} takes no reasoning effort: left out.</p>
        )}
        <label className="checkbox">
          <input
            type="checkbox"
            checked={settings.jsonMode}
            onChange={(event) => onChange({ jsonMode: event.target.checked })}
          />
          JSON mode (answers a JSON object; say so in the prompt)
        </label>
        {settings.jsonMode && props.withoutJsonMode.length > 0 && (
          <p className="field__hint">{props.withoutJsonMode.join(", ")} takes no JSON mode: left out.</p>
        )}
      </div>
    </section>
  );
}
