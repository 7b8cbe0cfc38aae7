import { type OutputUnit, type Schema, Validator } from "@cfworker/json-schema";
import {
  createErrorHandler,
  mergeObjects,
  type RJSFSchema,
  type RJSFValidationError,
  toErrorList,
  toErrorSchema,
  unwrapErrorHandler,
  type ValidatorType,
} from "@rjsf/utils";

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

// Keywords whose next segment is a name or index, and those that step into the instance.
const NAMED = new Set([
  "properties",
  "patternProperties",
  "prefixItems",
  "anyOf",
  "oneOf",
  "allOf",
  "$defs",
  "definitions",
]);
const STEPS_IN = new Set([
  "properties",
  "patternProperties",
  "prefixItems",
  "items",
  "additionalProperties",
  "contains",
]);

/**
 * Each `anyOf`/`oneOf` branch an error went through, as `instance|…/anyOf/2`: the branch's
 * keyword location with the instance it applied to (every `plugins[]` entry has its own).
 */
function branchesOf(e: OutputUnit): { branch: string; union: string }[] {
  const steps = e.keywordLocation.replace(/^#\/?/, "").split("/");
  const instance = e.instanceLocation.replace(/^#\/?/, "").split("/").filter(Boolean);
  const out: { branch: string; union: string }[] = [];
  let depth = 0;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] ?? "";
    if ((step === "anyOf" || step === "oneOf") && i + 1 < steps.length) {
      const at = `${instance.slice(0, depth).join("/")}|#/${steps.slice(0, i + 1).join("/")}`;
      out.push({ union: at, branch: `${at}/${steps[i + 1]}` });
    }
    if (STEPS_IN.has(step)) depth++;
    if (NAMED.has(step)) i++;
  }
  return out;
}

/**
 * The errors of the branches an entry is: a `plugins[]` entry is checked against every
 * plugin's options (an `anyOf`), and the branches of the other plugins, whose `type` it does
 * not have, fail too ("does not have required property url", "does not match any of
 * [example]"). Those are dropped, with the `anyOf`'s own summary, when a branch of the
 * entry's type is left to speak; and "False boolean schema." repeats an
 * `additionalProperties` error of its branch.
 */
function ownBranches(errors: OutputUnit[]): OutputUnit[] {
  const rejected = new Set<string>();
  for (const e of errors) {
    const last = branchesOf(e).at(-1);
    if (last && /\/properties\/type\/(enum|const)$/.test(e.keywordLocation)) rejected.add(last.branch);
  }
  const chosen = new Set<string>();
  for (const e of errors) for (const b of branchesOf(e)) if (!rejected.has(b.branch)) chosen.add(b.union);
  const summary = (e: OutputUnit) => `${e.instanceLocation.replace(/^#\/?/, "")}|${e.keywordLocation}`;
  return errors.filter(
    (e) =>
      e.error !== "False boolean schema." &&
      !chosen.has(summary(e)) &&
      !branchesOf(e).some((b) => rejected.has(b.branch) && chosen.has(b.union)),
  );
}

function toRjsf(errors: OutputUnit[]): RJSFValidationError[] {
  return ownBranches(errors)
    .filter((e) => !WRAPPERS.has(e.keyword))
    .map((e) => {
      const path = property(e.instanceLocation);
      return {
        name: e.keyword,
        property: path,
        message: messageOf(e),
        schemaPath: e.keywordLocation,
        stack: `${path || "config"}: ${messageOf(e)}`,
      };
    });
}

const FORMATS: Record<string, string> = {
  uri: "a URL, e.g. https://example.com/stats.json",
  "date-time": "a time, e.g. 2026-01-01T00:00:00Z",
  email: "an email address",
};
const TYPES: Record<string, string> = {
  integer: "a whole number",
  number: "a number",
  string: "text",
  boolean: "true or false",
  array: "a list",
  object: "a set of keys",
};

/**
 * What is allowed, in the words of a form: the validator's own messages state the failed
 * comparison, some wrongly (an exclusive minimum of 0 gives "0 is less than 0.").
 */
function messageOf(e: OutputUnit): string {
  // The limit is the last number of the validator's message (the schema is behind `$ref`s).
  const limit = /(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\)?\.?$/i.exec(e.error)?.[1];
  const exclusive = /or equal to/.test(e.error);
  switch (e.keyword) {
    case "minimum":
      return exclusive ? `must be greater than ${limit}` : `must be ${limit} or more`;
    case "maximum":
      return exclusive ? `must be less than ${limit}` : `must be ${limit} or less`;
    case "exclusiveMinimum":
      return `must be greater than ${limit}`;
    case "exclusiveMaximum":
      return `must be less than ${limit}`;
    case "multipleOf":
      return `must be a multiple of ${limit}`;
    case "minLength":
      return limit === "1" ? "must not be empty" : `must be at least ${limit} characters`;
    case "maxLength":
      return `must be at most ${limit} characters`;
    case "format": {
      const format = /format "([^"]+)"/.exec(e.error)?.[1] ?? "";
      return `must be ${FORMATS[format] ?? `in the format "${format}"`}`;
    }
    case "additionalProperties": {
      const key = /Property "([^"]+)"/.exec(e.error)?.[1];
      return key === undefined ? e.error : `has a key it does not know: "${key}" (check its spelling)`;
    }
    case "type": {
      const wanted = /Expected (.*)\.$/.exec(e.error)?.[1]?.match(/[a-z]+/g) ?? [];
      return `must be ${wanted.map((t) => TYPES[t] ?? t).join(" or ")}`;
    }
    default:
      return e.error;
  }
}

export const validator: ValidatorType = {
  // The page's own checks (`customValidate`, e.g. fewest dynos above most) join the schema's.
  validateFormData(formData, schema, customValidate, transformErrors, uiSchema) {
    let errors = toRjsf(validatorFor(schema).validate(formData ?? {}).errors);
    if (transformErrors) errors = transformErrors(errors, uiSchema);
    let errorSchema = toErrorSchema(errors);
    if (customValidate) {
      const own = unwrapErrorHandler(customValidate(formData, createErrorHandler(formData), uiSchema));
      errorSchema = mergeObjects(errorSchema, own, true) as typeof errorSchema;
      errors = toErrorList(errorSchema);
    }
    return { errors, errorSchema };
  },
  isValid(schema, formData, rootSchema) {
    return validatorFor(schema, rootSchema).validate(formData).valid;
  },
  rawValidation<Result>(schema: RJSFSchema, formData?: unknown) {
    return { errors: validatorFor(schema).validate(formData).errors as Result[] };
  },
};
