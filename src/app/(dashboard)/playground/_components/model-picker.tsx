"use client";

import { useId, useState } from "react";
import { formatTokenCount, formatUsd } from "~/components/ui/format";
import type { PlaygroundModel } from "./playground-model";

/**
 * Type to search the catalog (by id or name, as the browser's suggestion list matches); a model is chosen once the
 * text is one of its ids. Leaving the field with anything else puts the chosen model back.
 */
export function ModelPicker(props: {
  label: string;
  models: readonly PlaygroundModel[];
  value: string;
  onChange: (modelId: string) => void;
  disabled?: boolean;
}) {
  const id = useId();
  const [text, setText] = useState(props.value);
  const chosen = props.models.find((model) => model.id === props.value);
  return (
    <div className="field model-picker">
      <label className="field__label" htmlFor={`${id}-input`}>
        {props.label}
      </label>
      <input
        id={`${id}-input`}
        className="input input--mono"
        type="search"
        list={`${id}-models`}
        autoComplete="off"
        spellCheck={false}
        placeholder="Search models"
        value={text}
        disabled={props.disabled}
        onChange={(event) => {
          const next = event.target.value;
          setText(next);
          if (props.models.some((model) => model.id === next)) props.onChange(next);
        }}
        onBlur={() => setText(props.value)}
      />
      <datalist id={`${id}-models`}>
        {props.models.map((model) => (
          <option key={model.id} value={model.id} label={model.name} />
        ))}
      </datalist>
      {chosen !== undefined && (
        <p className="field__hint">
          {chosen.name} · {formatUsd(chosen.inputPerMillion)} in / {formatUsd(chosen.outputPerMillion)} out per 1M
          tokens · {formatTokenCount(chosen.contextLength)} context
        </p>
      )}
    </div>
  );
}
