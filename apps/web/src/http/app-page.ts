import { z } from "zod";
import { APP_STATES, type AppDirectory, type AppPageQuery, BadCursor } from "../store/app-directory.js";
import type { AppRow, AppStore } from "../store/apps.js";
import type { Problem } from "./answers.js";

/*
 * The query GET /api/apps and GET /api/overview share, and the page of apps it selects: the
 * directory (in memory) picks and orders the page, the database is read for its apps only.
 */

export const appPageQuery = z.strictObject({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(1000)
    .describe(
      "at most this many apps (erroring first, then those needing a look such as at max, then paused, then scaling; by name within)",
    ),
  cursor: z.string().max(400).optional().describe("`next_cursor` of the previous page"),
  q: z
    .string()
    .max(63)
    .optional()
    .transform((q) => q?.trim() || undefined)
    .describe("only apps whose name contains this (any case)"),
  state: z.enum(APP_STATES).optional().describe("only apps in this state"),
});

export const pageFields = {
  next_cursor: z.string().nullable().describe("pass as `cursor` for the next page; null on the last"),
  total: z.number().describe("apps matching the query, on all pages"),
};

/** The page's apps in page order, or the cursor's problem (for `invalid()`: a 422 with its path and code). */
export async function appPage(
  directory: AppDirectory,
  apps: AppStore,
  query: AppPageQuery,
): Promise<{ apps: AppRow[]; next_cursor: string | null; total: number } | { errors: Problem[] }> {
  try {
    const page = await directory.page(query);
    const rows = new Map((await apps.list(page.entries.map((e) => e.id))).map((a) => [a.id, a]));
    return {
      apps: page.entries.flatMap((e) => rows.get(e.id) ?? []),
      next_cursor: page.next,
      total: page.total,
    };
  } catch (e) {
    if (e instanceof BadCursor)
      return { errors: [{ path: "cursor", message: e.message, code: "DYNO_REQUEST_INVALID" }] };
    throw e;
  }
}
