import {
  type Config,
  type LimitKey,
  limitProblems,
  type ProcessLimits,
  processLimits,
  setLimit,
  windowText,
} from "../limits.js";

const FIELDS: { key: LimitKey; label: string; step: string; min: number }[] = [
  { key: "min_dynos", label: "Fewest dynos", step: "1", min: 0 },
  { key: "max_dynos", label: "Most dynos", step: "1", min: 1 },
  { key: "headroom", label: "Spare capacity (0.2 = 20 %)", step: "0.05", min: 0 },
];

/** `processes.web` + `min_dynos` → `limits-processes-web-min_dynos`. */
const inputId = (p: ProcessLimits, key: LimitKey) => `limits-${p.at.replace(/\./g, "-")}-${key}`;

/**
 * The Limits block, first on the config page: per process type its fewest and most dynos, its
 * spare capacity and its schedule, in words with the config key beside each. It edits the same
 * draft as the full form below (under "Advanced").
 */
export function LimitsBlock({ draft, onChange }: { draft: Config; onChange: (next: Config) => void }) {
  const processes = processLimits(draft);
  const problems = limitProblems(draft);
  return (
    <section class="limits" aria-labelledby="limits-title">
      <h2 id="limits-title">Limits</h2>
      {processes.map((p) => {
        const problem = problems.find((x) => x.path.startsWith(`${p.at}.`));
        const errorId = `${inputId(p, "min_dynos")}-error`;
        const min = p.own.min_dynos ?? p.inherited.min_dynos;
        const max = p.own.max_dynos ?? p.inherited.max_dynos;
        return (
          <fieldset key={p.at} data-process={p.type}>
            <legend>
              {p.type}: {min}–{max} dynos
            </legend>
            <div class="limit-fields">
              {FIELDS.map((f) => {
                const id = inputId(p, f.key);
                const invalid = problem !== undefined && f.key !== "headroom";
                return (
                  <div class="limit" key={f.key}>
                    <label for={id}>
                      {f.label} <code>{f.key}</code>
                    </label>
                    <input
                      id={id}
                      type="number"
                      inputMode={f.key === "headroom" ? "decimal" : "numeric"}
                      step={f.step}
                      min={f.min}
                      value={p.own[f.key] ?? ""}
                      placeholder={String(p.inherited[f.key])}
                      aria-invalid={invalid ? "true" : undefined}
                      aria-describedby={invalid ? errorId : undefined}
                      onInput={(e) => {
                        const raw = e.currentTarget.value;
                        const value = raw === "" ? undefined : Number(raw);
                        if (value !== undefined && !Number.isFinite(value)) return;
                        onChange(setLimit(draft, p.at, f.key, value));
                      }}
                    />
                  </div>
                );
              })}
            </div>
            {problem && (
              <p id={errorId} class="error-detail">
                {problem.message}
              </p>
            )}
            <p class="muted schedule">
              Schedule <code>schedule</code>:{" "}
              {p.at === "scaler"
                ? "none (a schedule needs processes: in Advanced)"
                : p.schedule.length === 0
                  ? "none"
                  : p.schedule.map(windowText).join("; ")}
            </p>
          </fieldset>
        );
      })}
    </section>
  );
}
