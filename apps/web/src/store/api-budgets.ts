import type { Clock } from "@dynosaur/core";
import type { AccountUse, BudgetShare } from "@dynosaur/host";
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";

const DAY_MS = 86_400_000;

/**
 * How the server processes sharing a database share each Heroku key's API budget (issue 23):
 * each publishes its use of each key (a hash of the key, never the key) every round and sums up
 * the others' that are still alive, so two processes never each assume the whole budget.
 * On SQLite there is one process: it finds nobody else.
 */
export class ApiBudgetStore implements BudgetShare {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly instance: string,
    private readonly clock: Clock,
    /** A process not heard from for this long is gone: its apps went to the others. */
    private readonly ttlMs: number,
  ) {}

  async exchange(mine: readonly AccountUse[]): Promise<readonly AccountUse[]> {
    const now = this.clock.now();
    await this.db.transaction().execute(async (tx) => {
      // Mine, and those of processes gone for a day (a crash leaves its rows behind).
      await tx
        .deleteFrom("api_budgets")
        .where((eb) => eb.or([eb("instance", "=", this.instance), eb("seen_at", "<", now - DAY_MS)]))
        .execute();
      if (mine.length > 0)
        await tx
          .insertInto("api_budgets")
          .values(
            mine.map((u) => ({
              instance: this.instance,
              account: u.account,
              apps: u.apps,
              wanted_per_hour: u.wantedPerHour,
              changes_per_hour: u.changesPerHour,
              seen_at: now,
            })),
          )
          .execute();
    });
    const rows = await this.db
      .selectFrom("api_budgets")
      .selectAll()
      .where("instance", "<>", this.instance)
      .where("seen_at", ">=", now - this.ttlMs)
      .execute();
    const sums = new Map<string, AccountUse>();
    for (const r of rows) {
      const s = sums.get(r.account) ?? { account: r.account, apps: 0, wantedPerHour: 0, changesPerHour: 0 };
      s.apps += Number(r.apps);
      s.wantedPerHour += Number(r.wanted_per_hour);
      s.changesPerHour += Number(r.changes_per_hour);
      sums.set(r.account, s);
    }
    return [...sums.values()];
  }

  /** This process stops: its share goes to the others at once. */
  async remove(): Promise<void> {
    await this.db.deleteFrom("api_budgets").where("instance", "=", this.instance).execute();
  }
}
