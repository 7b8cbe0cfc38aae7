import type { z } from "zod";
import { DynosaurError, inputError } from "../errors.js";
import { redact } from "../redact.js";
import type { ChannelDeps, StatsReporter } from "../report.js";
import { parseOrThrow } from "../validate.js";

/**
 * `stats:` types whose reporter is a package of its own, so that nobody who does not use
 * it installs its dependencies (the OpenTelemetry SDK for `otlp`). Their entries are still
 * validated by core's `statsConfigSchema` (and described by `dynosaur schema`); the code
 * that sends the figures is loaded through `StatsDeps.loadReporter`.
 */
export const REPORTER_PACKAGES: Readonly<Record<string, string>> = { otlp: "@dynosaur/reporter-otlp" };

/** What core hands a reporter package when it creates a reporter. */
export interface ReporterContext extends ChannelDeps {
  /** The reporter's name in logs (its logger's lines carry it): its type, or `type[i]` when the type is used twice. */
  name: string;
}

/** What a reporter package default-exports (`defineReporter`). */
export interface ReporterDefinition<S extends z.ZodType = z.ZodType> {
  /** The `stats[].type` it implements, e.g. `otlp`. */
  type: string;
  /** Schema of its `stats[]` entry, `type` included; the entry is checked against it before `create`. */
  options: S;
  create(options: z.output<S>, ctx: ReporterContext): StatsReporter | Promise<StatsReporter>;
}

/** Defines a stats reporter. A reporter package default-exports the result. */
export function defineReporter<S extends z.ZodType>(definition: ReporterDefinition<S>): ReporterDefinition<S> {
  return definition;
}

/** Loads the reporter of a `stats:` type; `path` (e.g. `stats[0].type`) is what an error blames. */
export type ReporterLoader = (type: string, path: string) => Promise<ReporterDefinition>;

/** Creates the reporter of one `stats[index]` entry from the package `load` gives for its type. */
export async function createExternalReporter(
  entry: { type: string },
  index: number,
  load: ReporterLoader | undefined,
  ctx: ReporterContext,
): Promise<StatsReporter> {
  const path = `stats[${index}].type`;
  const pkg = REPORTER_PACKAGES[entry.type] ?? `the ${entry.type} reporter's package`;
  if (!load) {
    throw inputError(
      "DYNO_REPORTER_NOT_FOUND",
      `${path}: the ${entry.type} reporter is a package of its own (${pkg}), and nothing was given to load it`,
      {
        path,
        hint: `install ${pkg} and pass \`loadReporter\` to createStatsReporters, e.g. async () => (await import("${pkg}")).default`,
      },
    );
  }
  const definition = await load(entry.type, path);
  checkReporterShape(definition, entry.type, pkg);
  const options = parseOrThrow(definition.options, entry, `stats[${index}]`);
  return definition.create(options, ctx);
}

function checkReporterShape(value: unknown, type: string, pkg: string): asserts value is ReporterDefinition {
  const d = value as Partial<ReporterDefinition> | null;
  const problems: string[] = [];
  if (!d || typeof d !== "object") problems.push(`its default export is ${d === null ? "null" : typeof d}`);
  else {
    if (d.type !== type) problems.push(`it implements type ${JSON.stringify(d.type)}, not "${type}"`);
    if (!d.options || typeof (d.options as { safeParse?: unknown }).safeParse !== "function")
      problems.push("`options` is not a zod schema");
    if (typeof d.create !== "function") problems.push("no `create` function");
  }
  if (problems.length > 0) {
    throw new DynosaurError(
      "DYNO_REPORTER_INVALID",
      `${pkg} is not a valid Dynosaur stats reporter: ${problems.join("; ")}`,
      {
        exitCode: 2,
        hint: `reinstall it (npm install ${pkg}) in the version that matches @dynosaur/core`,
      },
    );
  }
}

/** An HTTP call that failed: `message` is secret-free and names the service. */
export class HttpFailure extends Error {
  override name = "HttpFailure";
  constructor(
    message: string,
    /** The HTTP status, or null when no response came back (timeout, refused connection). */
    readonly status: number | null,
    /** The bare cause, without the service's name (e.g. `no answer within 200 ms`). */
    readonly reason: string = message,
  ) {
    super(message);
  }
}

/** Largest part of an error body quoted in a log line: enough to read the service's message. */
const MAX_QUOTED = 300;

/** A body worth quoting in a message: trimmed, one line, capped. */
export function quoteBody(text: string, secrets?: readonly string[]): string {
  const flat = redact(text, secrets).replace(/\s+/g, " ").trim();
  return flat.length > MAX_QUOTED ? `${flat.slice(0, MAX_QUOTED)}…` : flat;
}

/**
 * The scheme, host and port of a URL, for log lines: paths and query strings of heartbeat
 * and webhook URLs often carry a token, so they are never logged.
 */
export function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid URL)";
  }
}
