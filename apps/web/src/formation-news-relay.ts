import { describeError, type FormationNews, type Logger } from "@dynosaur/core";
import pg from "pg";
import { pgClientConfig } from "./db/connect.js";

/*
 * Heroku delivers an app's webhooks to one URL, and with several server processes behind it
 * any of them may take a delivery: the one that took it checks and records it, and what the
 * app's engine must know (a formation change, a preboot hold, that webhooks flow) travels to
 * the process that scales the app over PostgreSQL's LISTEN/NOTIFY, at once. Should the relay
 * be down, the engine still sees a change at its next formation read: nothing is lost, only later.
 */

const CHANNEL = "dynosaur_formation_news";
/** Real time between two attempts to listen again after the connection dropped. */
const RECONNECT_MS = 5000;

export interface FormationNewsRelay {
  /** Tells every other process; the one scaling `app` hands it to its engine. */
  publish(app: string, news: FormationNews): void;
  close(): Promise<void>;
}

interface Message {
  from: string;
  app: string;
  news: FormationNews;
}

export async function pgFormationNewsRelay(options: {
  databaseUrl: string;
  /** This process: its own messages are not for it. */
  instance: string;
  logger: Logger;
  /** Hands news to the app's engine when it runs here. */
  deliver: (app: string, news: FormationNews) => void;
}): Promise<FormationNewsRelay> {
  const { logger } = options;
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;

  const listen = async (): Promise<void> => {
    const c = new pg.Client(pgClientConfig(options.databaseUrl, "dynosaur-web formation news"));
    c.on("notification", (n) => {
      if (n.channel !== CHANNEL || !n.payload) return;
      try {
        const m = JSON.parse(n.payload) as Message;
        if (m.from !== options.instance) options.deliver(m.app, m.news);
      } catch (e) {
        logger.warn(`formation news not understood: ${describeError(e)}`, { event: "webhook-error" });
      }
    });
    const lost = (e?: unknown) => {
      if (client !== c) return;
      client = null;
      c.end().catch(() => {});
      if (closed) return;
      logger.warn(
        `formation news from other processes stopped${e ? `: ${describeError(e)}` : ""}; listening again in ${RECONNECT_MS / 1000} s`,
        { event: "webhook-error" },
      );
      retry = setTimeout(() => void listen().catch(lost), RECONNECT_MS);
    };
    c.on("error", lost);
    c.on("end", () => lost());
    await c.connect();
    await c.query(`LISTEN ${CHANNEL}`);
    client = c;
  };
  await listen();

  return {
    publish(app, news) {
      const c = client;
      if (!c) return;
      const message: Message = { from: options.instance, app, news };
      c.query("SELECT pg_notify($1, $2)", [CHANNEL, JSON.stringify(message)]).catch((e) =>
        logger.warn(`${app}: could not pass webhook news to the process scaling it: ${describeError(e)}`, {
          event: "webhook-error",
          web_app: app,
        }),
      );
    },
    async close() {
      closed = true;
      clearTimeout(retry);
      const c = client;
      client = null;
      await c?.end().catch(() => {});
    },
  };
}
