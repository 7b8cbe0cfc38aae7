import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatTick, type SourceStatus, type TickReport } from "@dynosaur/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFileReporter, libratoGauges, statsLine } from "../src/stats/index.js";
import { sampleTick } from "./fixtures.js";

/** One tick of web and worker: each process type reports its own figures. */
const jobs: SourceStatus = {
  name: "jobs",
  type: "sidekiq",
  unit: "jobs",
  value: 35,
  estimate: 4,
  health: "ok",
  busy: 2,
  lastRetrieval: 0,
  lastError: null,
};
const site: SourceStatus = {
  name: "site",
  type: "random",
  unit: "random units",
  value: 40,
  estimate: 3,
  health: "ok",
  busy: null,
  lastRetrieval: 0,
  lastError: null,
};
const time = Date.UTC(2026, 2, 2, 12, 0, 0);
const web = (over: Partial<TickReport> = {}) =>
  sampleTick({ time, processType: "web", before: 2, after: 3, estimate: 3, winner: "site", sources: [site], ...over });
const worker = (over: Partial<TickReport> = {}) =>
  sampleTick({
    time,
    processType: "worker",
    before: 0,
    after: 4,
    estimate: 4,
    winner: "jobs",
    sources: [jobs],
    ...over,
  });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "dynosaur-stats-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("figures of several process types", () => {
  it("the tick line and the console line start with the process type", () => {
    expect(formatTick(worker())).toBe("worker 0→4 estimate 4 (scale up) winner jobs | jobs: 35 jobs → 4 ok");
    expect(statsLine(worker())).toMatch(/^shop worker: estimate 4, actual 0 -> 4/);
  });

  it("Librato: web keeps the seed's combined gauges, another type gets its own", () => {
    const names = (t: TickReport) => libratoGauges("shop", t).map((g) => [g.name, g.value]);
    expect(names(web())).toEqual([
      ["dynosaur.shop.site.value", 40],
      ["dynosaur.shop.site.estimate", 3],
      ["dynosaur.shop.combined.estimate", 3],
      ["dynosaur.shop.combined.actual", 3],
    ]);
    expect(names(worker())).toEqual([
      ["dynosaur.shop.jobs.value", 35],
      ["dynosaur.shop.jobs.estimate", 4],
      ["dynosaur.shop.worker.combined.estimate", 4],
      ["dynosaur.shop.worker.combined.actual", 4],
    ]);
  });

  it("CSV: web and worker rows share one header with every source's columns", async () => {
    const path = join(dir, "stats.txt");
    const r = createFileReporter({ path, sources: ["site", "jobs"] });
    await r.report(web());
    await r.report(worker());
    await r.report(web({ time: time + 5000, before: 3, reason: "steady" }));
    await r.close?.();
    expect((await readFile(path, "utf8")).split("\n")).toEqual([
      "time,app,process_type,dry_run,before,after,estimate,winner,reason,site.value,site.estimate,site.health,jobs.value,jobs.estimate,jobs.health",
      "2026-03-02T12:00:00.000Z,shop,web,false,2,3,3,site,scale up,40,3,ok,,,",
      "2026-03-02T12:00:00.000Z,shop,worker,false,0,4,4,jobs,scale up,,,,35,4,ok",
      "2026-03-02T12:00:05.000Z,shop,web,false,3,3,3,site,steady,40,3,ok,,,",
      "",
    ]);
  });

  it("CSV without the source list up front: a source first seen later widens the header once", async () => {
    const path = join(dir, "stats.csv");
    const r = createFileReporter({ path });
    await r.report(web());
    await r.report(worker());
    await r.report(web({ time: time + 5000 }));
    await r.report(worker({ time: time + 5000 }));
    await r.close?.();
    const lines = (await readFile(path, "utf8")).trim().split("\n");
    expect(lines.filter((l) => l.startsWith("time,"))).toEqual([
      "time,app,process_type,dry_run,before,after,estimate,winner,reason,site.value,site.estimate,site.health",
      "time,app,process_type,dry_run,before,after,estimate,winner,reason,site.value,site.estimate,site.health,jobs.value,jobs.estimate,jobs.health",
    ]);
    expect(lines).toHaveLength(6);
  });
});

describe("CSV file a run appends to", () => {
  const SITE_HEADER =
    "time,app,process_type,dry_run,before,after,estimate,winner,reason,site.value,site.estimate,site.health";
  const siteRow = "2026-03-02T11:59:55.000Z,shop,web,true,2,2,2,site,steady,40,2,ok";

  it("a run with other sources writes its own header under the earlier run's rows (QA: rows under a header they did not fit)", async () => {
    const path = join(dir, "stats.txt");
    await writeFile(path, `${SITE_HEADER}\n${siteRow}\n`);
    const r = createFileReporter({ path, sources: ["jobs"] });
    await r.report(worker());
    await r.close?.();
    expect((await readFile(path, "utf8")).split("\n")).toEqual([
      SITE_HEADER,
      siteRow,
      "time,app,process_type,dry_run,before,after,estimate,winner,reason,jobs.value,jobs.estimate,jobs.health",
      "2026-03-02T12:00:00.000Z,shop,worker,false,0,4,4,jobs,scale up,35,4,ok",
      "",
    ]);
  });

  it("a run with the same sources goes on under the file's last header", async () => {
    const path = join(dir, "stats.txt");
    const jobsHeader = SITE_HEADER.replaceAll("site.", "jobs.");
    await writeFile(path, `${jobsHeader}\n${siteRow}\n${SITE_HEADER}\n${siteRow}\n`);
    const r = createFileReporter({ path, sources: ["site"] });
    await r.report(web());
    await r.close?.();
    const lines = (await readFile(path, "utf8")).trim().split("\n");
    expect(lines.filter((l) => l.startsWith("time,"))).toEqual([jobsHeader, SITE_HEADER]);
    expect(lines.at(-1)).toBe("2026-03-02T12:00:00.000Z,shop,web,false,2,3,3,site,scale up,40,3,ok");
  });

  it("finds the last header however far back it is, wherever it falls in the 64 KiB chunks the file is read in", async () => {
    const path = join(dir, "stats.txt");
    // Rows after the header of every length around one chunk: the header straddles the chunk edge in some.
    for (let length = 65_520; length <= 65_560; length++) {
      const row = `${siteRow}\n`;
      const rows = row.repeat(Math.floor(length / row.length));
      await writeFile(
        path,
        `time,app,other\n${"x".repeat(100)}\n${SITE_HEADER}\n${"y".repeat(length - rows.length)}${rows}`,
      );
      const r = createFileReporter({ path, sources: ["site"] });
      await r.report(web());
      await r.close?.();
      const headers = (await readFile(path, "utf8")).split("\n").filter((l) => l.startsWith("time,"));
      expect(headers, `${length} bytes after the header`).toEqual(["time,app,other", SITE_HEADER]);
    }
    // A file without any header gets one.
    await writeFile(path, `${siteRow}\n`);
    const r = createFileReporter({ path, sources: ["site"] });
    await r.report(web());
    await r.close?.();
    expect((await readFile(path, "utf8")).split("\n")[1]).toBe(SITE_HEADER);
  });
});
