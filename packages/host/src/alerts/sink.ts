import {
  type AlertSink,
  type AlertsConfigInput,
  type ChannelDeps,
  checkEnvAddresses,
  describeError,
  type Logger,
  type Problem,
  redact,
  withTimeout,
} from "@dynosaur/core";
import { createProblemLog } from "../stats/problems.js";
import { createHeartbeat } from "./heartbeat.js";
import { createSendGridMailer, type Email, type Mailer } from "./sendgrid.js";

/** `env` gives `SENDGRID_API_KEY`, `DYNOSAUR_ADMIN_EMAIL` and `DYNOSAUR_FROM_EMAIL` when `alerts:` does not. */
export interface AlertDeps extends ChannelDeps {
  /** Replaces SendGrid (tests, embedders with their own mail service). */
  mailer?: Mailer;
}

export interface AlertSinkHandle extends AlertSink {
  /** Whether problems are emailed (a SendGrid key and a recipient are known). */
  readonly emailing: boolean;
  /** Where problems go, in a few words, e.g. `emailed to ops@shop.example through SendGrid; heartbeat pinged`. */
  describe(): string;
  /** Resolves when no email or heartbeat is in flight. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const TITLES: Record<Problem["kind"], string> = {
  "source-outage": "a source is in outage",
  "all-sources-out": "every source is out",
  "heroku-refused": "Heroku refused to scale",
  "heroku-error": "Heroku API error",
  unexpected: "unexpected error",
};

interface ProblemState {
  problem: Problem;
  active: boolean;
  /** When the current (or last) occurrence began. */
  since: number;
  /** raise() calls in the current occurrence. */
  occurrences: number;
  /** raise() calls no email has mentioned yet. */
  unreported: number;
  /** When the last email about this problem (not its recovery) went out. */
  lastEmailAt: number | null;
  /** An email announced the current occurrence, so its recovery is emailed too. */
  announced: boolean;
}

/**
 * The alert sink: emails problems through SendGrid, deduplicated by `Problem.key` and
 * rate-limited to one email per problem per `min_interval` (repeats are counted into the
 * next email), emails each announced problem's recovery, and pings the heartbeat URL after
 * healthy ticks. Without a key and a recipient it only logs (the heartbeat still works).
 * Nothing here blocks the caller: email and pings run in the background, under timeouts,
 * and their failures are logged once per problem.
 */
export function createAlertSink(config: AlertsConfigInput | undefined, deps: AlertDeps): AlertSinkHandle {
  const cfg = config ?? {};
  const { logger, clock, env } = deps;
  checkEnvAddresses(cfg, env);
  const timeoutMs = (cfg.timeout ?? 10) * 1000;
  const minIntervalMs = (cfg.min_interval ?? 900) * 1000;
  const apiKey = nonEmpty(cfg.sendgrid_api_key) ?? nonEmpty(env.SENDGRID_API_KEY);
  const recipients = addresses(cfg.email ?? env.DYNOSAUR_ADMIN_EMAIL);
  const from = nonEmpty(cfg.from) ?? nonEmpty(env.DYNOSAUR_FROM_EMAIL) ?? recipients[0];
  const secrets = apiKey ? [apiKey] : [];
  const problems = createProblemLog(logger);

  const mailer: Mailer | null =
    apiKey && recipients.length > 0
      ? (deps.mailer ?? createSendGridMailer({ apiKey, endpoint: cfg.sendgrid_endpoint, http: deps.http, timeoutMs }))
      : null;
  announceSetup(logger, { apiKey, recipients, from, env });

  const heartbeat = cfg.heartbeat_url
    ? createHeartbeat({
        url: cfg.heartbeat_url,
        intervalMs: (cfg.heartbeat_interval ?? 60) * 1000,
        timeoutMs,
        http: deps.http,
        clock,
        problems,
      })
    : null;

  const states = new Map<string, ProblemState>();
  // Emails go out one at a time, in the order they were decided, so a recovery never
  // arrives before the problem it ends.
  let outbox: Promise<void> = Promise.resolve();
  let closed = false;

  const send = (email: Omit<Email, "to" | "from">) => {
    if (!mailer || !from) return;
    const full: Email = {
      to: recipients,
      from,
      subject: redact(email.subject, secrets),
      text: redact(email.text, secrets),
    };
    outbox = outbox.then(async () => {
      try {
        await mailer.send(full);
        problems.succeeded("alert email");
        logger.debug("alert emailed", { subject: full.subject });
      } catch (e) {
        problems.failed("alert email", redact(describeError(e), secrets));
        logger.info("alert email not sent", { subject: full.subject });
      }
    });
  };

  const emailDue = (s: ProblemState, now: number) => {
    if (!mailer || s.unreported === 0) return;
    if (s.lastEmailAt !== null && now - s.lastEmailAt < minIntervalMs) return;
    const previous = s.lastEmailAt;
    if (s.active && !s.announced) send(problemEmail(deps.app, s, now, previous, minIntervalMs));
    else if (s.active) send(repeatEmail(deps.app, s, now, previous, minIntervalMs));
    else send(flappingEmail(deps.app, s, now, previous));
    s.lastEmailAt = now;
    s.unreported = 0;
    if (s.active) s.announced = true;
  };

  const sweep = (now: number) => {
    for (const [key, s] of states) {
      emailDue(s, now);
      // A cleared problem with nothing left to tell is forgotten once its window is over.
      if (!s.active && s.unreported === 0 && (s.lastEmailAt === null || now - s.lastEmailAt >= minIntervalMs))
        states.delete(key);
    }
  };

  return {
    emailing: mailer !== null,
    describe: () =>
      `${mailer ? `emailed to ${recipients.join(", ")} through SendGrid` : "logged only (set SENDGRID_API_KEY and DYNOSAUR_ADMIN_EMAIL to email them)"}${heartbeat ? "; heartbeat pinged" : ""}`,
    raise(problem) {
      const now = clock.now();
      let s = states.get(problem.key);
      if (!s?.active) {
        logger.warn(`alert: ${problem.message}`, { alert: problem.kind, key: problem.key });
        s = {
          problem,
          active: true,
          since: now,
          occurrences: 1,
          unreported: (s?.unreported ?? 0) + 1,
          lastEmailAt: s?.lastEmailAt ?? null,
          announced: false,
        };
        states.set(problem.key, s);
      } else {
        s.problem = problem;
        s.occurrences++;
        s.unreported++;
        logger.debug(`alert repeated: ${problem.message}`, {
          alert: problem.kind,
          key: problem.key,
          occurrences: s.occurrences,
        });
      }
      if (!closed) emailDue(s, now);
    },
    clear(key) {
      const s = states.get(key);
      if (!s?.active) return;
      const now = clock.now();
      s.active = false;
      logger.info(`alert cleared: ${s.problem.message}`, { alert: s.problem.kind, key, lasted_ms: now - s.since });
      if (s.announced && !closed) {
        send(recoveryEmail(deps.app, s, now));
        s.unreported = 0;
        s.announced = false;
      }
    },
    tick(_report, healthy) {
      if (closed) return;
      sweep(clock.now());
      if (healthy) heartbeat?.beat();
    },
    settled: async () => {
      await Promise.all([outbox, heartbeat?.settled()]);
    },
    async close() {
      if (closed) return;
      closed = true;
      const done = Promise.all([outbox, heartbeat?.settled()]).then(() => true);
      if (!(await withTimeout(done, timeoutMs, () => false)))
        logger.warn(`alerts: email or heartbeat still in flight after ${timeoutMs} ms; closing anyway`);
    },
  };
}

function announceSetup(
  logger: Logger,
  s: {
    apiKey: string | undefined;
    recipients: string[];
    from: string | undefined;
    env: Record<string, string | undefined>;
  },
): void {
  if (s.apiKey && s.recipients.length > 0) {
    logger.info(`alerts: emailing ${s.recipients.join(", ")} through SendGrid (from ${s.from})`);
    return;
  }
  if (!s.apiKey && (nonEmpty(s.env.SENDGRID_USERNAME) || nonEmpty(s.env.SENDGRID_PASSWORD))) {
    logger.warn(
      "alerts: SENDGRID_USERNAME/SENDGRID_PASSWORD are set, but SendGrid no longer accepts a username and password for its API; alerts are not emailed",
      {
        hint: "create a SendGrid API key with the Mail Send permission, set SENDGRID_API_KEY to it and DYNOSAUR_ADMIN_EMAIL to the recipient, then unset SENDGRID_USERNAME and SENDGRID_PASSWORD",
      },
    );
    return;
  }
  if (s.apiKey) {
    logger.warn("alerts: a SendGrid key is set but no recipient; alerts are not emailed", {
      hint: "set DYNOSAUR_ADMIN_EMAIL or alerts.email",
    });
    return;
  }
  if (s.recipients.length > 0) {
    logger.warn("alerts: a recipient is set but no SendGrid key; alerts are not emailed", {
      hint: "set SENDGRID_API_KEY or alerts.sendgrid_api_key",
    });
    return;
  }
  logger.info("alerts: not emailed (set SENDGRID_API_KEY and DYNOSAUR_ADMIN_EMAIL to email them); problems are logged");
}

/** An email about problem `s`: `[dynosaur] <app>: <subject>: <first line>`, the message, then `details`. */
function email(
  app: string,
  s: ProblemState,
  subject: string,
  headline: string,
  details: string[],
): Omit<Email, "to" | "from"> {
  return {
    subject: `[dynosaur] ${app}: ${subject}: ${firstLine(s.problem.message)}`,
    text: [
      `Dynosaur, app ${app}: ${headline}`,
      "",
      s.problem.message,
      "",
      `Problem: ${s.problem.key} (${s.problem.kind})`,
      ...details,
    ].join("\n"),
  };
}

function problemEmail(app: string, s: ProblemState, now: number, previous: number | null, minIntervalMs: number) {
  const title = TITLES[s.problem.kind];
  const earlier =
    s.unreported > 1
      ? `\nSeen ${s.unreported} times since ${previous === null ? iso(s.since) : `the last email (${iso(previous)})`}.`
      : "";
  return email(app, s, title, `${title}.`, [`Since:   ${iso(s.since)}${earlier}`, "", footer(now, minIntervalMs)]);
}

function repeatEmail(app: string, s: ProblemState, now: number, previous: number | null, minIntervalMs: number) {
  return email(app, s, `still happening (${s.unreported} more)`, `${TITLES[s.problem.kind]}, still happening.`, [
    `Since:   ${iso(s.since)} (${duration(now - s.since)})`,
    `Repeated ${s.unreported} times since the last email${previous === null ? "" : ` (${iso(previous)})`}; ${s.occurrences} times in all.`,
    "",
    footer(now, minIntervalMs),
  ]);
}

function flappingEmail(app: string, s: ProblemState, now: number, previous: number | null) {
  const since = previous === null ? "" : ` (${iso(previous)})`;
  const headline = `${TITLES[s.problem.kind]}. It came back ${s.unreported} times since the last email${since} and has cleared again.`;
  return email(app, s, `happened again and cleared (${s.unreported} times)`, headline, [
    `Last seen from ${iso(s.since)}; cleared by ${iso(now)}.`,
  ]);
}

function recoveryEmail(app: string, s: ProblemState, now: number) {
  const seen = `seen ${s.occurrences} time${s.occurrences === 1 ? "" : "s"}`;
  return email(app, s, "recovered", `recovered from "${TITLES[s.problem.kind]}".`, [
    `Lasted:  ${duration(now - s.since)} (${iso(s.since)} to ${iso(now)}), ${seen}.`,
  ]);
}

function footer(now: number, minIntervalMs: number): string {
  return `Repeats are counted; the next email about this problem comes no earlier than ${iso(now + minIntervalMs)} (alerts.min_interval), and its recovery is always emailed.`;
}

function addresses(v: string | readonly string[] | undefined): string[] {
  const list = typeof v === "string" ? v.split(",") : (v ?? []);
  return list.map((a) => a.trim()).filter((a) => a.length > 0);
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

function firstLine(message: string): string {
  const line = message.split("\n", 1)[0] ?? "";
  return line.length > 100 ? `${line.slice(0, 100)}…` : line;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
