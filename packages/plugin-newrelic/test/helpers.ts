import {
  type DynosaurError,
  type Logger,
  ManualClock,
  memoryLogger,
  type PluginContext,
  PluginError,
  type PluginInstance,
} from "@dynosaur/core";
import { Agent, type Dispatcher } from "undici";
import { expect } from "vitest";
import plugin from "../src/index.js";

export const USER_KEY = "NRAK-test-fake-0123456789abcdef";
export const ACCOUNT_ID = 1234567;

export interface Harness {
  instance: PluginInstance;
  logger: ReturnType<typeof memoryLogger>;
  /** Aborts the context signal, as core does when the instance closes. */
  shutdown: AbortController;
}

/** Validates `raw` with the plugin's schema (as core does) and creates an instance. */
export async function createInstance(raw: Record<string, unknown>, http: Dispatcher = new Agent()): Promise<Harness> {
  const logger = memoryLogger();
  const shutdown = new AbortController();
  const ctx: PluginContext = {
    name: "newrelic",
    logger: logger as Logger,
    http,
    signal: shutdown.signal,
    clock: new ManualClock(),
  };
  const options = plugin.options.parse(raw);
  const instance = await plugin.create(
    {
      ...options,
      name: "newrelic",
      type: "newrelic",
      interval: 60,
      hysteresis_period: 0,
      outage_after: 300,
      timeout: 30,
    },
    ctx,
  );
  return { instance, logger, shutdown };
}

/** A fresh signal that never aborts, for polls that should finish. */
export function never(): AbortSignal {
  return new AbortController().signal;
}

/** Awaits a failing retrieve, checks it is a secret-free PluginError matching `pattern`, returns it. */
export async function expectFailure(promise: Promise<unknown>, pattern: RegExp): Promise<DynosaurError> {
  const error = await promise.then(
    () => expect.fail("expected the poll to fail"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PluginError);
  const e = error as PluginError;
  expect(e.message).toMatch(pattern);
  expectNoSecret(e);
  return e;
}

export function expectNoSecret(...things: unknown[]): void {
  for (const thing of things) {
    const text =
      thing instanceof Error
        ? `${(thing as DynosaurError).format?.() ?? thing.message} ${thing.stack ?? ""} ${String(thing.cause ?? "")}`
        : String(thing);
    expect(text).not.toContain(USER_KEY);
    expect(text).not.toContain(USER_KEY.slice(5));
  }
}
