import { Agent, type Dispatcher } from "undici";
import type { z } from "zod";
import { ManualClock } from "../clock.js";
import { type Logger, type LogLevel, type LogRecord, memoryLogger } from "../logger.js";
import {
  type PluginContext,
  type PluginDefinition,
  type PluginInstance,
  type PluginOptionsSchema,
  parsePluginOptions,
  type SourceOptions,
} from "../plugin.js";

/** A logger that keeps its records, as `memoryLogger()` returns. */
export type MemoryLogger = Logger & { records: LogRecord[]; text(): string };

export interface TestContextOptions {
  /**
   * The source's name, as a config's `plugins[].name` would give it.
   * @default "test"
   */
  name?: string;
  /**
   * The dispatcher behind `ctx.http`, e.g. an undici `MockAgent` or an `Agent` with its own
   * connect options. A dispatcher you pass is yours: `close()` leaves it open.
   * @default a new undici `Agent`, destroyed by `close()`
   */
  http?: Dispatcher;
  /**
   * The clock the plugin reads; advance it to move time without sleeping.
   * @default a `ManualClock` at 2026-01-01T00:00:00Z
   */
  clock?: ManualClock;
  /**
   * The lowest level the memory logger keeps.
   * @default "debug"
   */
  logLevel?: LogLevel;
}

/** A `PluginContext` for tests, with handles on what core would otherwise own. */
export interface TestContext extends PluginContext {
  logger: MemoryLogger;
  clock: ManualClock;
  /** Controls `signal`; core aborts it when it closes the instance. */
  controller: AbortController;
  /** Aborts `signal` and destroys the `Agent` this context created. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Builds the context core would hand a plugin's `create`: a memory logger whose lines carry
 * the source's name, a ManualClock, an undici dispatcher and a signal you can abort.
 */
export function createTestContext(options: TestContextOptions = {}): TestContext {
  const name = options.name ?? "test";
  const base = memoryLogger(options.logLevel ?? "debug");
  // Same records array as `base`, so the source field shows up in what tests read back.
  const logger: MemoryLogger = Object.assign(base.child({ source: name }), { records: base.records, text: base.text });
  const ownAgent = options.http ? undefined : new Agent();
  const http: Dispatcher = options.http ?? (ownAgent as Agent);
  const controller = new AbortController();
  let closed: Promise<void> | undefined;
  return {
    name,
    logger,
    http,
    signal: controller.signal,
    clock: options.clock ?? new ManualClock(),
    controller,
    close() {
      closed ??= (async () => {
        controller.abort(new Error(`source "${name}" is closing`));
        // destroy, not close: close() would wait for a request a broken plugin left hanging.
        if (ownAgent && !ownAgent.destroyed) await ownAgent.destroy();
      })();
      return closed;
    },
  };
}

/** A live instance made the way core makes one, with its context. */
export interface TestInstance<S extends PluginOptionsSchema = PluginOptionsSchema> {
  instance: PluginInstance;
  ctx: TestContext;
  /** The options `create` received: validated, with defaults and the common source options. */
  options: z.output<S> & SourceOptions;
  /** Closes the instance, then the context. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Validates `options` (a `plugins[]` entry; `type` may be left out) the way core does and
 * creates an instance with a test context. Invalid options throw core's config error.
 */
export async function createTestInstance<S extends PluginOptionsSchema>(
  plugin: PluginDefinition<S>,
  options: Record<string, unknown> = {},
  context: TestContextOptions = {},
): Promise<TestInstance<S>> {
  const parsed = parsePluginOptions(plugin, { type: plugin.type, ...options }, "plugins[0]");
  const ctx = createTestContext({ name: parsed.name, ...context });
  let instance: PluginInstance;
  try {
    instance = await plugin.create(parsed, ctx);
  } catch (error) {
    await ctx.close();
    throw error;
  }
  let closed: Promise<void> | undefined;
  return {
    instance,
    ctx,
    options: parsed,
    close() {
      closed ??= (async () => {
        try {
          await instance.close?.();
        } finally {
          await ctx.close();
        }
      })();
      return closed;
    },
  };
}
