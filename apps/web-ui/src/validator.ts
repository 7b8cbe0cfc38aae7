import { type OutputUnit, type Schema, Validator } from "@cfworker/json-schema";
import { type RJSFSchema, type RJSFValidationError, toErrorSchema, type ValidatorType } from "@rjsf/utils";

/*
 * The form library's validator, on @cfworker/json-schema: it interprets the schema, where
 * @rjsf/validator-ajv8 compiles it to code with `new Function`, which the page's CSP
 * (script-src 'self', no unsafe-eval) rightly refuses. The schemas come from the server at
 * run time (third-party plugins included), so they cannot be precompiled at build time.
 */

// Errors that only say "something below failed": the failures below are reported themselves.
const WRAPPERS = new Set([
  "properties",
  "items",
  "prefixItems",
  "$ref",
  "allOf",
  "additionalItems",
  "unevaluatedProperties",
  "unevaluatedItems",
  "contains",
]);

const cache = new WeakMap<object, Validator>();

/** A sub-schema checked alone still needs the root's definitions for its `$ref`s. */
function validatorFor(schema: RJSFSchema, root?: RJSFSchema): Validator {
  const key = root && root !== schema ? { schema, root } : schema;
  const cached = root && root !== schema ? undefined : cache.get(schema);
  if (cached) return cached;
  const full =
    root && root !== schema ? { ...schema, $defs: { ...(root.$defs ?? {}), ...(schema.$defs ?? {}) } } : schema;
  const v = new Validator(full as Schema, "2020-12", false);
  if (key === schema) cache.set(schema, v);
  return v;
}

/** `#/scaler/min_dynos` → `.scaler.min_dynos`, the form library's property path. */
const property = (instanceLocation: string) =>
  instanceLocation
    .replace(/^#/, "")
    .split("/")
    .filter(Boolean)
    .map((k) => `.${decodeURIComponent(k).replace(/~1/g, "/").replace(/~0/g, "~")}`)
    .join("");

function toRjsf(errors: OutputUnit[]): RJSFValidationError[] {
  return errors
    .filter((e) => !WRAPPERS.has(e.keyword))
    .map((e) => {
      const path = property(e.instanceLocation);
      return {
        name: e.keyword,
        property: path,
        message: e.error,
        schemaPath: e.keywordLocation,
        stack: `${path || "config"}: ${e.error}`,
      };
    });
}

export const validator: ValidatorType = {
  validateFormData(formData, schema) {
    const errors = toRjsf(validatorFor(schema).validate(formData ?? {}).errors);
    return { errors, errorSchema: toErrorSchema(errors) };
  },
  isValid(schema, formData, rootSchema) {
    return validatorFor(schema, rootSchema).validate(formData).valid;
  },
  rawValidation<Result>(schema: RJSFSchema, formData?: unknown) {
    return { errors: validatorFor(schema).validate(formData).errors as Result[] };
  },
};
