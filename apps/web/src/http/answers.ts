import { ERROR_CATALOGUE, type ErrorCode } from "@dynosaur/core";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";

/*
 * The API's answers other than 2xx, in one shape each: `{error, code}`, or for a 422
 * `{errors: [{path, message, hint?, code}]}`. The code is from core's error catalogue, so a
 * client (the pages, a script) maps codes, never the text of a message.
 */

const CODES = Object.keys(ERROR_CATALOGUE) as [ErrorCode, ...ErrorCode[]];

export const codeSchema = z.enum(CODES).describe("what went wrong, from the error catalogue: stable, unlike the text");

/** One problem of a 422 answer, at its path. */
export interface Problem {
  path: string;
  message: string;
  hint?: string;
  code: ErrorCode;
}

/** The shape of every validation error: one entry per problem, at its path. */
export const errorsSchema = z.object({
  errors: z.array(z.object({ path: z.string(), message: z.string(), hint: z.string().optional(), code: codeSchema })),
});
export const messageSchema = z.object({ error: z.string(), code: codeSchema });

/** An error answer: `{error, code}`, with what else the route documents (`version`, `setup_needed`). */
export function fail(
  c: Context,
  status: ContentfulStatusCode,
  code: ErrorCode,
  error: string,
  extra: Record<string, unknown> = {},
): Response {
  return c.json({ error, code, ...extra }, status);
}

/** A 422: every problem at its path. */
export function invalid(c: Context, errors: readonly Problem[]): Response {
  return c.json({ errors }, 422);
}
