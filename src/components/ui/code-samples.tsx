"use client";

import { useId, useState } from "react";
import { CopyButton } from "./copy-button";

export interface CodeSample {
  /** Tab label: "curl", "Python", "JavaScript". */
  label: string;
  code: string;
}

/** The same call in several languages, one tab each, with a copy button for the one shown. */
export function CodeSamples({ samples }: { samples: CodeSample[] }) {
  const [selected, setSelected] = useState(0);
  const id = useId();
  const shown = samples[selected] ?? samples[0];
  if (shown === undefined) return null;
  return (
    <div className="code-samples">
      <div className="code-samples__bar">
        <div role="tablist" aria-label="Language" className="code-samples__tabs">
          {samples.map((sample, index) => (
            <button
              key={sample.label}
              type="button"
              role="tab"
              id={`${id}-tab-${index}`}
              aria-selected={index === selected}
              aria-controls={`${id}-panel`}
              className={index === selected ? "code-samples__tab code-samples__tab--selected" : "code-samples__tab"}
              onClick={() => setSelected(index)}
            >
              {sample.label}
            </button>
          ))}
        </div>
        <CopyButton text={shown.code} label={`Copy ${shown.label}`} />
      </div>
      <pre className="code-block" role="tabpanel" id={`${id}-panel`} aria-labelledby={`${id}-tab-${selected}`}>
        <code>{shown.code}</code>
      </pre>
    </div>
  );
}
