import { queueTimeOf, type RequestLike } from "./parse.js";
import { QueueTimeSummary } from "./summary.js";

export interface QueueTimeOptions {
  /**
   * Milliseconds between two summary lines.
   * @default 10000
   */
  intervalMs?: number;
  /**
   * Where a summary line goes. Heroku's log drain carries stdout, so nothing else is needed.
   * @default a line on process.stdout
   */
  write?: (line: string) => void;
  /**
   * The clock queue times are measured with, in ms since the epoch.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Whether to write a line every `intervalMs` on a timer (unref'd, so it never keeps the
   * process alive). Without it, call `flush()` yourself.
   * @default true
   */
  timer?: boolean;
}

type Next = (error?: unknown) => void;

/** One dyno's queue-time recorder with a middleware per framework. */
export interface QueueTime {
  /** Express / Connect middleware: `app.use(qt.express)`. */
  readonly express: (req: RequestLike, res: unknown, next: Next) => void;
  /** Fastify hook: `fastify.addHook("onRequest", qt.fastify)`. */
  readonly fastify: (request: RequestLike, reply: unknown, done: (error?: Error) => void) => void;
  /** Koa middleware: `app.use(qt.koa)`. */
  readonly koa: (ctx: { req: RequestLike }, next: () => Promise<unknown>) => Promise<void>;
  /** Records a request's queue time and returns it (null without a usable `X-Request-Start`). */
  observe(req: RequestLike): number | null;
  /** Writes the current interval's summary line now and starts the next interval. */
  flush(): string;
  /** Stops the timer (no final line). */
  stop(): void;
}

/**
 * Measures each request's queue time (now - `X-Request-Start`) and writes one summary line
 * per interval, `dynosaur:queue_time n= p50= p95= max=`, so the log volume is a few lines a
 * minute whatever the traffic. Create one per process, before the routes.
 */
export function queueTime(options: QueueTimeOptions = {}): QueueTime {
  const now = options.now ?? Date.now;
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const summary = new QueueTimeSummary();
  const observe = (req: RequestLike): number | null => {
    const ms = queueTimeOf(req, now());
    if (ms !== null) summary.add(ms);
    return ms;
  };
  const flush = () => {
    const line = summary.take();
    write(line);
    return line;
  };
  let timer: NodeJS.Timeout | undefined;
  if (options.timer ?? true) {
    timer = setInterval(flush, options.intervalMs ?? 10_000);
    timer.unref();
  }
  return {
    express(req, _res, next) {
      observe(req);
      next();
    },
    fastify(request, _reply, done) {
      observe(request);
      done();
    },
    async koa(ctx, next) {
      observe(ctx.req);
      await next();
    },
    observe,
    flush,
    stop() {
      clearInterval(timer);
    },
  };
}
