import getDefaultRegistry from "@rjsf/core/lib/getDefaultRegistry.js";
import type { FieldTemplateProps } from "@rjsf/utils";
import type { ComponentType } from "preact";

const BaseFieldTemplate = getDefaultRegistry().templates.FieldTemplate as ComponentType<FieldTemplateProps>;

/**
 * Leaves deprecated keys (older names the config still accepts) out of the form, unless the
 * config in force uses one: then it is shown, its description saying which key to write instead.
 * The schema keeps them, so a config using them still validates and saves.
 */
export function makeFieldTemplate(used: ReadonlySet<string>) {
  return function FieldTemplate(props: FieldTemplateProps) {
    if (props.schema.deprecated === true && !used.has(props.id)) return null;
    return <BaseFieldTemplate {...props} />;
  };
}
