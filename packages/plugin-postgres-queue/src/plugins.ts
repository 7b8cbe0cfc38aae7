import { definePlugin, type PluginContext, type Reading, type SourceOptions } from "@dynosaur/core";
import { checkReadOnlyQuery, readingFromRows } from "./custom-query.js";
import { Database } from "./database.js";
import { estimateDynos } from "./estimate.js";
import type { Library } from "./libraries.js";
import { type QueueOptions, queueOptionsSchema, resolveRule, sqlOptionsSchema, withSchemaOption } from "./options.js";
import { parseTarget } from "./target.js";

// A reading is jobs with metric: depth and seconds with metric: latency; the unit is per plugin, not per source.
const UNIT = "jobs or s";
const SECRETS = ["url"] as const;

const ESTIMATE_RULE =
  "depth: ceil(depth / jobs_per_dyno). latency: above latency_target, max(dynos now + 1, ceil(dynos now x latency / latency_target)); " +
  "from half the target to the target, dynos now; below half, one fewer; any waiting job with no dyno running asks for 1.";

function openDatabase(options: { url: string } & SourceOptions, ctx: PluginContext): Database {
  return new Database({
    target: parseTarget(options.url),
    sourceName: options.name,
    timeoutSeconds: options.timeout,
    logger: ctx.logger,
  });
}

/** A plugin reading one queue library's tables: one query per poll for depth, latency and busy. */
export function queuePlugin(library: Library) {
  const options = library.defaultSchema ? withSchemaOption(library.defaultSchema) : queueOptionsSchema;
  return definePlugin({
    type: library.type,
    unit: UNIT,
    description: `${library.description} Reads the schema of ${library.name}. ${ESTIMATE_RULE}`,
    secrets: SECRETS,
    options,
    create(raw, ctx) {
      const opts = raw as QueueOptions & SourceOptions;
      const rule = resolveRule(opts);
      const database = openDatabase(opts, ctx);
      const sql = library.sql(opts.schema);
      const schema = { library: library.name, missingHint: library.missingHint };
      return {
        async retrieve(signal): Promise<Reading> {
          const rows = await database.query(sql, [opts.queues ?? null], AbortSignal.any([signal, ctx.signal]), schema);
          const row = rows[0] as { depth: number; latency: number; busy: number };
          return { value: rule.metric === "depth" ? row.depth : row.latency, busy: row.busy };
        },
        estimateDynos: (value, context) => estimateDynos(rule, value, context),
        close: () => database.close(),
      };
    },
  });
}

/** The `sql` type: a read-only query of your own, run in a READ ONLY transaction. */
export const sqlPlugin = definePlugin({
  type: "sql",
  unit: UNIT,
  description: `A read-only SELECT of your own on a PostgreSQL database, returning one row with \`value\` (and optionally \`busy\`). ${ESTIMATE_RULE}`,
  secrets: SECRETS,
  options: sqlOptionsSchema,
  async create(opts, ctx) {
    const rule = resolveRule(opts);
    const statement = await checkReadOnlyQuery(opts.query);
    const database = openDatabase(opts, ctx);
    // One round trip. The explicit READ ONLY transaction holds even if an earlier poll's
    // query changed the session's default (set_config), so no poll can ever write.
    const text = `BEGIN READ ONLY;\n${statement}\n;COMMIT`;
    return {
      async retrieve(signal) {
        const rows = await database.query(text, undefined, AbortSignal.any([signal, ctx.signal]), undefined, 1);
        return readingFromRows(rows);
      },
      estimateDynos: (value, context) => estimateDynos(rule, value, context),
      close: () => database.close(),
    };
  },
});
