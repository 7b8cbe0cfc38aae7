// Loaded into the benchmarked server with `node --import` (bench/drain.mjs): measures where its
// event loop stalls, without changing the server. Over the IPC channel the bench sends "reset"
// (the measured window starts) and "report" (answered with the figures below):
//  - event-loop delay (perf_hooks monitorEventLoopDelay): p50, p99, max in ms, beyond the 10 ms
//    sampling interval (the histogram counts the whole interval: an idle loop reads 10 ms)
//  - stalls: how often a 10 ms timer came back over 20 ms late, and the worst ones with the second
//    of the minute they ended in (the drain minutes are written at :02, the peers read at :05) and
//    how much of the stall the main thread ran (process.threadCpuUsage): a stall the thread
//    spent running is work blocking the loop; one it spent waiting is a busy machine's scheduler
//  - garbage collection: pauses (major ones), total and longest; the heap in use at the report
//  - SQLite (node:sqlite runs every statement on the event loop): calls, total time, the longest
//    call and the statements that took the most time
import { constants, monitorEventLoopDelay, PerformanceObserver, performance } from "node:perf_hooks";
import { DatabaseSync, StatementSync } from "node:sqlite";

const STALL_MS = 20;
const BEAT_MS = 10;
const delay = monitorEventLoopDelay({ resolution: BEAT_MS });
delay.enable();

let stalls = [];
let lastBeat = performance.now();
let lastCpu = process.threadCpuUsage();
setInterval(() => {
  const now = performance.now();
  const cpu = process.threadCpuUsage();
  const late = now - lastBeat - BEAT_MS;
  if (late > STALL_MS) {
    const ran = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
    stalls.push({ ms: late, ran, second: new Date().getUTCSeconds() });
  }
  lastBeat = now;
  lastCpu = cpu;
}, BEAT_MS).unref();

let gc = { count: 0, totalMs: 0, maxMs: 0, major: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.totalMs += e.duration;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
    if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
  }
}).observe({ entryTypes: ["gc"] });

let sql = { calls: 0, totalMs: 0, maxMs: 0, maxText: "", byText: new Map() };
const timed = (proto, name, textOf) => {
  const original = proto[name];
  proto[name] = function (...args) {
    const started = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      const ms = performance.now() - started;
      const text = textOf(this, args);
      sql.calls++;
      sql.totalMs += ms;
      if (ms > sql.maxMs) {
        sql.maxMs = ms;
        sql.maxText = text;
      }
      const entry = sql.byText.get(text) ?? { calls: 0, ms: 0, max: 0 };
      entry.calls++;
      entry.ms += ms;
      entry.max = Math.max(entry.max, ms);
      sql.byText.set(text, entry);
    }
  };
};
for (const name of ["run", "all", "get"]) timed(StatementSync.prototype, name, (s) => s.sourceSQL);
timed(DatabaseSync.prototype, "exec", (_db, args) => String(args[0]));

const round = (n) => Math.round(n * 10) / 10;
const short = (text) => text.replace(/\s+/g, " ").slice(0, 90);

process.on("message", (message) => {
  if (message === "reset") {
    delay.reset();
    stalls = [];
    gc = { count: 0, totalMs: 0, maxMs: 0, major: 0 };
    sql = { calls: 0, totalMs: 0, maxMs: 0, maxText: "", byText: new Map() };
    return;
  }
  if (message !== "report") return;
  const ms = (ns) => round(Math.max(0, ns / 1e6 - BEAT_MS));
  process.send?.({
    loop_delay_ms: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
    stalls_over_20ms: stalls.length,
    // Of the stalls' time, how much the main thread ran (blocking) and how much it waited for a core.
    stalls_ms: {
      total: round(stalls.reduce((n, s) => n + s.ms + BEAT_MS, 0)),
      running: round(stalls.reduce((n, s) => n + Math.min(s.ran, s.ms + BEAT_MS), 0)),
    },
    // The stall the thread ran through longest: the worst blocking found.
    most_running_stall:
      [...stalls]
        .sort((a, b) => b.ran - a.ran)
        .slice(0, 1)
        .map((s) => ({ ms: round(s.ms), ran_ms: round(s.ran), second: s.second }))[0] ?? null,
    worst_stalls: [...stalls]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5)
      .map((s) => ({ ms: round(s.ms), ran_ms: round(s.ran), second: s.second })),
    gc: {
      pauses: gc.count,
      major: gc.major,
      total_ms: round(gc.totalMs),
      max_ms: round(gc.maxMs),
      heap_used_mb: round(process.memoryUsage().heapUsed / 2 ** 20),
    },
    sqlite: {
      calls: sql.calls,
      total_ms: round(sql.totalMs),
      max_ms: round(sql.maxMs),
      max_statement: short(sql.maxText),
      top: [...sql.byText.entries()]
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, 4)
        .map(([text, e]) => ({ statement: short(text), calls: e.calls, total_ms: round(e.ms), max_ms: round(e.max) })),
    },
  });
});
// The channel must not keep the server alive once it stops.
process.channel?.unref();
