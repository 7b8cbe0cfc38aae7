import type { RJSFSchema } from "@rjsf/utils";
import { describe, expect, it } from "vitest";
import { dryRunConfig, startTestServer } from "../../web/test/helpers.js";
import { formSchema } from "../src/form-schema.js";
import { validator } from "../src/validator.js";

/** The form's errors for `config`, against the schema the server gives the config page. */
async function formErrors(config: unknown) {
  const t = await startTestServer();
  const schema = (await t.call("GET", "/api/schema?use=random,dynosaur-plugin-example")).json;
  const { errors } = validator.validateFormData(config, formSchema(schema) as RJSFSchema);
  return errors.map((e) => [e.property, e.message]);
}

describe("the config form's own errors say what is allowed", () => {
  it("bounds, URLs and types, in the form's words (the validator's said '0 is less than 0.' for a minimum of more than 0)", async () => {
    const config = {
      ...dryRunConfig({ use: ["random", "dynosaur-plugin-example"], scaler: { interval: -1, max_dynos: 2.5 } }),
      plugins: [
        { type: "random", max_value: 0 },
        { type: "example", url: "not a url", json_pointer: "/n", per_dyno: 4 },
      ],
    };
    expect(await formErrors(config)).toEqual(
      expect.arrayContaining([
        [".scaler.interval", "must be greater than 0"],
        [".scaler.max_dynos", "must be a whole number"],
        [".plugins.0.max_value", "must be greater than 0"],
        [".plugins.1.url", "must be a URL, e.g. https://example.com/stats.json"],
      ]),
    );
  });

  it("a plugins[] entry gets the errors of its own plugin's options, not those of every other plugin's", async () => {
    const config = {
      ...dryRunConfig({ use: ["random", "dynosaur-plugin-example"] }),
      plugins: [
        { type: "random", max_value: 0 },
        { type: "example", url: "https://example.com/n.json", json_pointer: "/n", per_dyno: 4, per_dyn: 5 },
      ],
    };
    // Was also: `.plugins.0` "does not have required property url", `.plugins.0.type` "does not
    // match any of [example]", "False boolean schema." and the anyOf's "does not match any subschemas".
    expect(await formErrors(config)).toEqual([
      [".plugins.0.max_value", "must be greater than 0"],
      [".plugins.1", 'has a key it does not know: "per_dyn" (check its spelling)'],
    ]);
  });
});
