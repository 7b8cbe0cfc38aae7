// The modules themselves, not @rjsf/core's index: that also exports a test helper which imports
// @rjsf/validator-ajv8, a validator this page cannot use (see ../validator.ts).
import Form from "@rjsf/core/lib/components/Form.js";
import getDefaultRegistry from "@rjsf/core/lib/getDefaultRegistry.js";
import { type ErrorSchema, type RJSFSchema, toErrorSchema, type WidgetProps } from "@rjsf/utils";
import type { ComponentType } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  ApiError,
  configSchema,
  getConfig,
  type PluginType,
  pluginTypes,
  type StoredConfig,
  saveConfig,
} from "../api.js";
import { plainLabel } from "../field-labels.js";
import { diff, fieldId, formSchema, shownChanges, usedFieldIds, writeOnlyKeys } from "../form-schema.js";
import { limitProblems } from "../limits.js";
import { labelSources, withUse } from "../sources.js";
import { validator } from "../validator.js";
import { makeFieldTemplate, TitleFieldTemplate } from "./deprecated-fields.js";
import { History } from "./history.js";
import { LimitsBlock } from "./limits-block.js";
import { ReplayPanel } from "./replay-panel.js";
import { ScalingControls } from "./scaling-controls.js";

const BaseText = getDefaultRegistry().widgets.TextWidget as ComponentType<WidgetProps>;
const BaseSelect = getDefaultRegistry().widgets.SelectWidget as ComponentType<WidgetProps>;

/** The chooser between a field's alternatives (`anyOf`/`oneOf`) gets no label of its own: give it one. */
function SelectWidget(props: WidgetProps) {
  if (!/__(any|one)of_select$/.test(props.id)) return <BaseSelect {...props} />;
  const source = /^root_plugins_(\d+)__/.exec(props.id);
  return (
    <div class="choice">
      <label for={props.id}>
        {source ? `Source ${Number(source[1]) + 1}: type` : `${plainLabel(props.label)?.words ?? props.label}: kind`}
      </label>
      <BaseSelect {...props} />
    </div>
  );
}

/**
 * Secret fields (`writeOnly` in the schema) are write-only: a password box that is empty
 * whatever is stored; its placeholder says whether a value is set. Left empty, the stored
 * secret is kept (the server keeps what a PUT leaves out).
 */
function makeTextWidget(setSecrets: Set<string>) {
  return function TextWidget(props: WidgetProps) {
    if (!props.schema.writeOnly) return <BaseText {...props} />;
    const set = setSecrets.has(props.id);
    return (
      <BaseText
        {...props}
        type="password"
        autocomplete="new-password"
        placeholder={set ? "set: type to replace" : "not set"}
      />
    );
  };
}

/** The config form, generated from the schema of core and of the plugins in `use:`. */
export function ConfigPage({ name }: { name: string }) {
  const [stored, setStored] = useState<StoredConfig | null>(null);
  const [schema, setSchema] = useState<RJSFSchema | null>(null);
  const [draft, setDraft] = useState<Record<string, unknown>>({});
  const [serverErrors, setServerErrors] = useState<ErrorSchema | undefined>(undefined);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [comment, setComment] = useState("");
  const [installed, setInstalled] = useState<PluginType[]>([]);
  /** The answer to the last Save (or Discard), shown next to the button. */
  const [saveNote, setSaveNote] = useState<{ text: string; failed: boolean } | null>(null);
  const [advanced, setAdvanced] = useState(false);
  /** Bumped when errors are shown: the first one gets the focus. */
  const [focusErrors, setFocusErrors] = useState(0);
  const mainRef = useRef<HTMLElement | null>(null);

  const load = async () => {
    const c = await getConfig(name);
    const use = Array.isArray(c.config.use) ? (c.config.use as string[]) : [];
    // Every installed plugin type is offered, not only those the config names yet.
    const types = await pluginTypes(use);
    setInstalled(types);
    setSchema(labelSources(formSchema(await configSchema([...new Set([...use, ...types.map((p) => p.spec)])]))));
    setStored(c);
    setDraft(c.config);
  };
  useEffect(() => {
    load().catch((e: Error) => setError(e.message));
  }, [name]);

  // The first invalid field gets the focus (Advanced opens when it is there), so the answer is in view.
  useEffect(() => {
    if (focusErrors === 0) return;
    const main = mainRef.current;
    const first = main?.querySelector<HTMLElement>(
      '[aria-invalid="true"], .has-error input, .has-error select, .has-error textarea',
    );
    if (!first) {
      main?.querySelector<HTMLElement>("#save-note")?.focus();
      return;
    }
    if (first.closest("details.advanced") && !advanced) {
      setAdvanced(true);
      return; // focused once the details are open (this effect runs again)
    }
    first.focus();
  }, [focusErrors, advanced]);

  const widgets = useMemo(
    () => ({
      SelectWidget,
      TextWidget: makeTextWidget(
        new Set((stored?.secrets ?? []).filter((s) => s.state === "set").map((s) => fieldId(s.path))),
      ),
    }),
    [stored],
  );
  const templates = useMemo(
    () => ({ FieldTemplate: makeFieldTemplate(usedFieldIds(stored?.config)), TitleFieldTemplate }),
    [stored],
  );
  const secretKeys = useMemo(() => writeOnlyKeys(schema), [schema]);
  // Secrets typed into the form are compared like any field, but never shown in the table.
  const changes = useMemo(
    () =>
      stored
        ? shownChanges(diff(stored.config, draft), {
            keys: secretKeys,
            stored: new Set(stored.secrets.filter((s) => s.state === "set").map((s) => s.path)),
          })
        : [],
    [stored, draft, secretKeys],
  );

  // The server's word is final (it also checks what a schema cannot): its errors go to their fields.
  const showServerErrors = (errors: ApiError["errors"]) =>
    setServerErrors(
      toErrorSchema(
        errors.map((x) => ({
          property: `.${x.path.replace(/\[(\d+)\]/g, ".$1")}`,
          message: x.hint ? `${x.message} (${x.hint})` : x.message,
          stack: `${x.path}: ${x.message}`,
        })),
      ),
    );

  const save = async (config: Record<string, unknown>) => {
    if (!stored) return;
    setMessage(null);
    setSaveNote(null);
    setServerErrors(undefined);
    try {
      const r = await saveConfig(name, config, stored.version, comment);
      setComment("");
      await load();
      setSaveNote({ text: `Saved as version ${r.version}.`, failed: false });
    } catch (e) {
      if (e instanceof ApiError && e.errors.length > 0) {
        showServerErrors(e.errors);
        setSaveNote({ text: "Nothing was saved: see the errors at their fields.", failed: true });
      } else {
        setSaveNote({ text: (e as Error).message, failed: true });
      }
      setFocusErrors((n) => n + 1);
    }
  };

  // The form's own submit (the library's submit() would dispatch a second submit event): it validates first.
  const submit = () => mainRef.current?.querySelector<HTMLFormElement>("details.advanced form")?.requestSubmit();

  const discard = () => {
    if (!stored) return;
    setDraft(stored.config);
    setServerErrors(undefined);
    setComment("");
    setSaveNote({ text: `Changes discarded: the draft is version ${stored.version} again.`, failed: false });
  };

  if (error && !stored)
    return (
      <main>
        <p role="alert" class="error">
          {error}
        </p>
      </main>
    );
  if (!stored || !schema) return <main aria-busy="true">Loading…</main>;
  return (
    <main class="config" ref={mainRef}>
      <p>
        <a href="#/">Apps</a> / <a href={`#/apps/${encodeURIComponent(name)}`}>{name}</a>
      </p>
      <h1>
        {name}: config{" "}
        <span class="version">
          version {stored.version}, by {stored.author}
        </span>
      </h1>
      {message && <p role="status">{message}</p>}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <ScalingControls
        name={name}
        stored={stored}
        dirty={changes.length > 0}
        onSaved={() => load().catch((e: Error) => setError(e.message))}
      />
      <LimitsBlock draft={draft} onChange={(next) => setDraft(withUse(next, installed))} />
      <details
        class="advanced"
        open={advanced}
        onToggle={(e) => setAdvanced((e.currentTarget as HTMLDetailsElement).open)}
      >
        <summary>Advanced: every key of the config</summary>
        <Form
          schema={schema}
          formData={draft}
          validator={validator}
          widgets={widgets}
          templates={templates}
          extraErrors={serverErrors}
          showErrorList={false}
          noHtml5Validate
          // An optional list (e.g. a queue source's `queues`) starts empty, not with a blank entry.
          experimental_defaultFormStateBehavior={{ arrayMinItems: { populate: "requiredOnly" } }}
          // Fewest above most is caught here, not only by the server on a second round.
          customValidate={(data, errors) => {
            for (const p of limitProblems((data ?? {}) as Record<string, unknown>)) {
              // biome-ignore lint/suspicious/noExplicitAny: the form library's nested error object
              const at = p.path.split(".").reduce<any>((node, key) => node?.[key], errors);
              at?.addError?.(p.message);
            }
            return errors;
          }}
          onChange={(e) => setDraft(withUse(e.formData as Record<string, unknown>, installed))}
          onSubmit={(e) => save(withUse(e.formData as Record<string, unknown>, installed))}
          onError={() => {
            setMessage(null);
            setSaveNote({ text: "Nothing was saved: see the errors at their fields.", failed: true });
            setFocusErrors((n) => n + 1);
          }}
        >
          {/* Saved from the button below, after the changes and "Try it first". */}
          {null}
        </Form>
      </details>
      <h2>Changes against version {stored.version}</h2>
      {changes.length === 0 ? (
        <p class="muted">No change yet.</p>
      ) : (
        <table class="apps diff">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Running</th>
              <th scope="col">Draft</th>
            </tr>
          </thead>
          <tbody>
            {changes.map((c) => (
              <tr key={c.path}>
                <th scope="row">
                  <code>{c.path}</code>
                </th>
                <td>{c.before ?? "–"}</td>
                <td>{c.after ?? "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ReplayPanel name={name} draft={draft} version={stored.version} onInvalid={showServerErrors} />
      <div class="save">
        <label for="comment">Comment (kept with the version)</label>
        <input id="comment" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
        <div class="actions">
          <button type="button" class="primary" onClick={submit}>
            Save as version {stored.version + 1}
          </button>
          <button type="button" disabled={changes.length === 0} onClick={discard}>
            Discard changes
          </button>
        </div>
        {saveNote && (
          <p
            id="save-note"
            tabIndex={-1}
            role={saveNote.failed ? "alert" : "status"}
            class={saveNote.failed ? "error" : undefined}
          >
            {saveNote.text}
          </p>
        )}
      </div>
      <History
        name={name}
        current={stored.version}
        onRollback={(version) => {
          load().then(
            () => setMessage(`Rolled back: saved as version ${version}.`),
            (e: Error) => setError(e.message),
          );
        }}
      />
    </main>
  );
}
