import { definePlugin, describeError, inputError, PluginError, z } from "@dynosaur/core";
import { parseJsonPointer, resolveJsonPointer } from "./json-pointer.js";

// `.describe()` (not a JSDoc comment) reaches `dynosaur schema`, so editors show it.
const options = z.object({
  url: z
    .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
    .refine(withoutCredentials, "must not carry a user or password: put the secret in `token`")
    .describe(
      "The JSON endpoint to GET, e.g. `https://status.example.com/stats.json`. Credentials belong in `token`, never in the URL.",
    ),
  json_pointer: z
    .string()
    .default("")
    .describe(
      'Where the number sits in the response, as a JSON Pointer: `/data/active_users`, `/queues/0/depth`. `""` means the whole response is the number.',
    ),
  per_dyno: z
    .number()
    .positive()
    .describe("How much of the reading one dyno handles: the source asks for `ceil(value / per_dyno)` dynos."),
  token: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Sent as `Authorization: Bearer <token>`; none when left out. Write `token: ${EXAMPLE_TOKEN}` so the secret comes from the environment.",
    ),
});

/** Reads a number from a JSON HTTP endpoint on each poll. */
export default definePlugin({
  type: "example",
  unit: "units",
  description: "A number read from a JSON HTTP endpoint; needs ceil(value / per_dyno) dynos.",
  // Redacted from logs and errors by core (a key named *token is secret anyway; listing it says so).
  secrets: ["token"],
  options,
  create(options, ctx) {
    // Parse once here, not on every poll, so a bad pointer stops start-up with the option's path.
    let keys: string[];
    try {
      keys = parseJsonPointer(options.json_pointer);
    } catch (error) {
      // The path is relative to the entry: core prefixes it (plugins[2].json_pointer) and the message.
      throw inputError(
        "DYNO_CONFIG_INVALID",
        `${JSON.stringify(options.json_pointer)} is not a JSON Pointer: ${describeError(error)}`,
        {
          path: "json_pointer",
          hint: 'write "/" before each key, e.g. "/data/active_users"; inside a key write "~1" for "/" and "~0" for "~"',
        },
      );
    }
    const url = new URL(options.url);
    // Messages and logs name the endpoint without its query string, which may carry a key.
    const endpoint = `${url.origin}${url.pathname}`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.token) headers.authorization = `Bearer ${options.token}`;

    return {
      async retrieve(signal) {
        let response: Awaited<ReturnType<typeof ctx.http.request>>;
        try {
          response = await ctx.http.request({
            origin: url.origin,
            path: url.pathname + url.search,
            method: "GET",
            headers,
            signal,
          });
        } catch (error) {
          signal.throwIfAborted();
          throw new PluginError(`could not reach ${endpoint}: ${describeError(error)}`, {
            cause: error,
            hint: "check `url` and that the service is up",
          });
        }
        if (response.statusCode < 200 || response.statusCode > 299) {
          await response.body.dump();
          throw new PluginError(`GET ${endpoint} answered ${response.statusCode}`, {
            hint: hintFor(response.statusCode),
          });
        }
        let body: unknown;
        try {
          body = await response.body.json();
        } catch (error) {
          signal.throwIfAborted();
          throw new PluginError(`GET ${endpoint} did not answer JSON`, {
            cause: error,
            hint: "check that `url` points at the JSON endpoint itself",
          });
        }
        const found = resolveJsonPointer(body, keys);
        if (!found.found) {
          throw new PluginError(`the answer of ${endpoint} has nothing at ${JSON.stringify(found.missing)}`, {
            hint: "check `json_pointer` against what the endpoint returns",
          });
        }
        if (typeof found.value !== "number" || !Number.isFinite(found.value)) {
          throw new PluginError(
            `the answer of ${endpoint} has ${preview(found.value)} at json_pointer ${JSON.stringify(options.json_pointer)}, not a number`,
            {
              hint: "point `json_pointer` at a number",
            },
          );
        }
        ctx.logger.debug("read", { endpoint, value: found.value });
        return found.value;
      },
      // Clamped at 0: an endpoint may report a negative number, and dynos cannot be.
      estimateDynos: (value) => Math.max(0, Math.ceil(value / options.per_dyno)),
      // No close(): `ctx.http` belongs to core, and the instance holds nothing else.
    };
  },
});

function withoutCredentials(url: string): boolean {
  // Runs even when the URL check failed; that failure is already reported.
  const parsed = URL.parse(url);
  return !parsed || (!parsed.username && !parsed.password);
}

/** A short, one-line rendering of a JSON value for an error message. */
function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * What the user can do about a status. Core already says the reading failed and what it does
 * meanwhile, so a hint never repeats that: it names the fix.
 */
function hintFor(status: number): string {
  if (status === 401 || status === 403)
    return "the endpoint refused the `token`: check it (and that it is set in the environment)";
  if (status === 404) return "check `url`";
  if (status === 429) return "the endpoint limits how often it is read: raise `interval`";
  if (status >= 500) return "a failure on the endpoint's side: if it lasts, check that service's status";
  return "check `url` and `token`";
}
