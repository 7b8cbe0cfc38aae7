import getDefaultRegistry from "@rjsf/core/lib/getDefaultRegistry.js";
import { ADDITIONAL_PROPERTY_FLAG, type FieldTemplateProps, type TitleFieldProps } from "@rjsf/utils";
import type { ComponentType } from "preact";
import { plainLabel } from "../field-labels.js";

const BaseFieldTemplate = getDefaultRegistry().templates.FieldTemplate as ComponentType<FieldTemplateProps>;
const BaseTitleField = getDefaultRegistry().templates.TitleFieldTemplate as ComponentType<TitleFieldProps>;

/** A label in words with the config key beside it ("Fewest dynos `min_dynos`"), or as it was. */
function labelled(text: string): string {
  const plain = plainLabel(text);
  // The form library renders a label as given: an element where it expects text is shown as is.
  return plain
    ? ((
        <>
          {plain.words} <code>{plain.key}</code>
        </>
      ) as unknown as string)
    : text;
}

/**
 * Leaves deprecated keys (older names the config still accepts) out of the form, unless the
 * config in force uses one: then it is shown, its description saying which key to write instead.
 * The schema keeps them, so a config using them still validates and saves. Labels are in words,
 * the key beside.
 */
export function makeFieldTemplate(used: ReadonlySet<string>) {
  return function FieldTemplate(props: FieldTemplateProps) {
    if (props.schema.deprecated === true && !used.has(props.id)) return null;
    // A free-form map's key is typed by the user: its label is the key itself.
    if (ADDITIONAL_PROPERTY_FLAG in props.schema) return <BaseFieldTemplate {...props} />;
    return <BaseFieldTemplate {...props} label={labelled(props.label)} />;
  };
}

/** An object's or a list's heading, in words with its key beside. */
export function TitleFieldTemplate(props: TitleFieldProps) {
  // A source's heading is its plugin type ("sidekiq"): a name, not a key to explain.
  const type = (props.schema.properties?.type as { default?: unknown } | undefined)?.default;
  if (type === props.title) return <BaseTitleField {...props} />;
  return <BaseTitleField {...props} title={labelled(props.title)} />;
}
