import { useRef, useState } from "preact/hooks";
import { ApiError, createApp } from "../api.js";
import { type StarterAnswers, starterYaml } from "../starter.js";

/** A new app from a CLI config: pasted or uploaded, YAML or JSON (JSON is YAML too). */
export function AddApp() {
  const [name, setName] = useState("");
  const [text, setText] = useState("");
  const [errors, setErrors] = useState<{ path: string; message: string }[]>([]);
  const [busy, setBusy] = useState(false);
  /** The name the server refused because an app has it (adding never replaces an app's config). */
  const [taken, setTaken] = useState<string | null>(null);
  const nameInput = useRef<HTMLInputElement>(null);
  const [answers, setAnswers] = useState<StarterAnswers>({
    herokuApp: "",
    web: { min: 1, max: 4, source: "random" },
    worker: null,
  });
  const web = (over: Partial<StarterAnswers["web"]>) => setAnswers((a) => ({ ...a, web: { ...a.web, ...over } }));
  const worker = (over: Partial<NonNullable<StarterAnswers["worker"]>> | null) =>
    setAnswers((a) => ({
      ...a,
      worker: over === null ? null : { min: 0, max: 4, source: "sidekiq", ...a.worker, ...over },
    }));
  const writeStarter = () => {
    setText(starterYaml(answers));
    if (!name && /^[a-z0-9][a-z0-9._-]{0,62}$/.test(answers.herokuApp)) setName(answers.herokuApp);
  };

  const upload = async (e: Event) => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (file) setText(await file.text());
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setErrors([]);
    setTaken(null);
    try {
      // The YAML parser is only needed here: loaded when used.
      const { parse } = await import("yaml");
      let config: unknown;
      try {
        config = parse(text);
      } catch (err) {
        setErrors([{ path: "config", message: `not valid YAML: ${(err as Error).message}` }]);
        return;
      }
      const saved = await createApp(name, config);
      location.hash = `#/apps/${encodeURIComponent(saved.name)}`;
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        setTaken(name);
        nameInput.current?.focus();
      } else if (err instanceof ApiError)
        setErrors(err.errors.length > 0 ? err.errors : [{ path: "", message: err.message }]);
      else setErrors([{ path: "", message: (err as Error).message }]);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="add">
      <p>
        <a href="#/">Apps</a>
      </p>
      <h1>Add an app</h1>
      <fieldset class="starter">
        <legend>Guided start: a few answers write a starter config, dry run on</legend>
        <label for="starter-heroku">Heroku app (as `heroku apps` lists it)</label>
        <input
          id="starter-heroku"
          value={answers.herokuApp}
          onInput={(e) => {
            const herokuApp = e.currentTarget.value;
            setAnswers((a) => ({ ...a, herokuApp }));
          }}
        />
        <div class="limit-fields">
          <div class="limit">
            <label for="starter-web-min">web: fewest dynos</label>
            <input
              id="starter-web-min"
              type="number"
              min={1}
              value={answers.web.min}
              onInput={(e) => web({ min: Number(e.currentTarget.value) })}
            />
          </div>
          <div class="limit">
            <label for="starter-web-max">web: most dynos</label>
            <input
              id="starter-web-max"
              type="number"
              min={1}
              value={answers.web.max}
              onInput={(e) => web({ max: Number(e.currentTarget.value) })}
            />
          </div>
          <div class="limit">
            <label for="starter-web-source">web follows</label>
            <select
              id="starter-web-source"
              value={answers.web.source}
              onChange={(e) => web({ source: e.currentTarget.value as StarterAnswers["web"]["source"] })}
            >
              <option value="random">made-up readings (to try)</option>
              <option value="newrelic">New Relic throughput</option>
            </select>
          </div>
        </div>
        <div class="limit">
          <label for="starter-worker">worker follows</label>
          <select
            id="starter-worker"
            value={answers.worker?.source ?? ""}
            onChange={(e) => {
              const v = e.currentTarget.value;
              worker(v === "" ? null : { source: v as "sidekiq" | "good-job" });
            }}
          >
            <option value="">no worker process</option>
            <option value="sidekiq">a Sidekiq queue (Redis)</option>
            <option value="good-job">a good_job queue (PostgreSQL)</option>
          </select>
        </div>
        {answers.worker && (
          <div class="limit-fields">
            <div class="limit">
              <label for="starter-worker-min">worker: fewest dynos</label>
              <input
                id="starter-worker-min"
                type="number"
                min={0}
                value={answers.worker.min}
                onInput={(e) => worker({ min: Number(e.currentTarget.value) })}
              />
            </div>
            <div class="limit">
              <label for="starter-worker-max">worker: most dynos</label>
              <input
                id="starter-worker-max"
                type="number"
                min={1}
                value={answers.worker.max}
                onInput={(e) => worker({ max: Number(e.currentTarget.value) })}
              />
            </div>
          </div>
        )}
        <button type="button" onClick={writeStarter}>
          Write the starter config
        </button>
      </fieldset>
      <form onSubmit={submit}>
        <label for="app-name">Name (lower-case letters, digits, '.', '_' and '-')</label>
        <input
          id="app-name"
          ref={nameInput}
          required
          pattern="[a-z0-9][a-z0-9._\-]{0,62}"
          value={name}
          aria-invalid={taken !== null && taken === name}
          aria-describedby={taken !== null && taken === name ? "app-name-error" : undefined}
          onInput={(e) => setName(e.currentTarget.value)}
        />
        {taken !== null && taken === name && (
          <p id="app-name-error" class="error" role="alert">
            An app named <code>{taken}</code> exists:{" "}
            <a href={`#/apps/${encodeURIComponent(taken)}/config`}>open its config</a> to change it.
          </p>
        )}
        <label for="app-config">Config (the CLI's dynosaur.yaml, YAML or JSON)</label>
        <textarea
          id="app-config"
          required
          rows={16}
          spellcheck={false}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        <label for="app-file">or upload it</label>
        <input id="app-file" type="file" accept=".yaml,.yml,.json,text/yaml,application/json" onChange={upload} />
        {errors.length > 0 && (
          <div role="alert">
            <ul class="error">
              {errors.map((x) => (
                <li key={`${x.path}:${x.message}`}>
                  {x.path && <code>{x.path}</code>} {x.message}
                </li>
              ))}
            </ul>
          </div>
        )}
        <button type="submit" disabled={busy}>
          Add the app
        </button>
      </form>
    </main>
  );
}
