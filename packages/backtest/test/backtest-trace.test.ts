import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynosaurError } from "@dynosaur/core";
import { describe, expect, it, onTestFinished } from "vitest";
import { parseTrace, readTrace } from "../src/trace.js";

function invalid(text: string): DynosaurError {
  try {
    parseTrace(text, "t.csv");
  } catch (e) {
    expect(e).toBeInstanceOf(DynosaurError);
    expect((e as DynosaurError).code).toBe("DYNO_TRACE_INVALID");
    expect((e as DynosaurError).exitCode).toBe(2);
    return e as DynosaurError;
  }
  throw new Error("expected the trace to be rejected");
}

describe("parseTrace", () => {
  it("reads minute,value rows at a 60 s step", () => {
    const t = parseTrace("minute,value\n0,1.5\n1,2\n2,0\n", "t.csv");
    expect(t).toMatchObject({ file: "t.csv", stepMs: 60_000, start: null, length: 3 });
    expect(t.columns.map((c) => ({ name: c.name, values: [...c.values] }))).toEqual([
      { name: "value", values: [1.5, 2, 0] },
    ]);
  });

  it("accepts \\r\\n line ends, a byte order mark, blank trailing lines and a minute count not starting at 0", () => {
    const t = parseTrace("\uFEFFminute,value\r\n7,1\r\n8,2\r\n\r\n\r\n", "t.csv");
    expect(t.length).toBe(2);
    expect(t.columns.map((c) => [...c.values])).toEqual([[1, 2]]);
  });

  it("reads ISO times at a fixed step, UTC unless they carry an offset", () => {
    const t = parseTrace(
      "time,value\n2014-04-10T00:00:00Z,1\n2014-04-10T00:05:00Z,2\n2014-04-10T00:10:00Z,3\n",
      "t.csv",
    );
    expect(t).toMatchObject({ stepMs: 300_000, start: Date.UTC(2014, 3, 10), length: 3 });
    const local = parseTrace("time,value\n2014-04-10 00:00:00,1\n2014-04-10 00:01:00,2\n", "t.csv");
    expect(local).toMatchObject({ stepMs: 60_000, start: Date.UTC(2014, 3, 10) });
    const offset = parseTrace("time,value\n2014-04-10T02:00+02:00,1\n2014-04-10T02:00:30+0200,2\n", "t.csv");
    expect(offset).toMatchObject({ stepMs: 30_000, start: Date.UTC(2014, 3, 10) });
  });

  it("reads several value columns and quoted fields", () => {
    const t = parseTrace('"time","ga","nr"\n"2026-01-01T00:00:00Z",1,10\n"2026-01-01T00:01:00Z",2,"20"\n', "t.csv");
    expect(t.columns.map((c) => c.name)).toEqual(["ga", "nr"]);
    expect(t.columns.map((c) => [...c.values])).toEqual([
      [1, 2],
      [10, 20],
    ]);
  });

  it("rejects a non-numeric value with its line number", () => {
    const e = invalid("minute,value\n0,1\n1,abc\n2,3\n");
    expect(e.message).toBe('t.csv:3: value "abc" is not a number');
    expect(e.hint).toContain("minute,value");
  });

  it("rejects an empty or negative value", () => {
    expect(invalid("minute,value\n0,1\n1,\n").message).toBe("t.csv:3: value is empty");
    expect(invalid("minute,value\n0,1\n1,2\n2,-4\n").message).toBe(
      "t.csv:4: value -4 is negative: a load is never below 0",
    );
    expect(invalid("minute,value\n0,Infinity\n").message).toContain("t.csv:2:");
  });

  it("rejects a trace without a header", () => {
    expect(invalid("0,1\n1,2\n").message).toBe("t.csv:1: missing header: the first line holds data");
    expect(invalid("when,value\n0,1\n").message).toBe(
      't.csv:1: the first column must be "minute" or "time", not "when"',
    );
    expect(invalid("minute\n0\n").message).toContain("t.csv:1: the header names no value column");
    expect(invalid("minute,value,value\n0,1,2\n").message).toBe('t.csv:1: column "value" appears twice');
  });

  it("rejects rows with a wrong number of fields, and an unclosed quote", () => {
    expect(invalid("minute,value\n0,1\n1,2,3\n").message).toBe("t.csv:3: expected 2 fields (minute,value), found 3");
    expect(invalid('minute,value\n0,"1\n').message).toBe("t.csv:2: a quoted field is not closed");
  });

  it("rejects a gap in the minutes and a minute that is not a whole number", () => {
    const e = invalid("minute,value\n0,1\n1,1\n3,1\n");
    expect(e.message).toBe("t.csv:4: minute 3 follows minute 1: minutes must go up by 1 with no gaps");
    expect(invalid("minute,value\n0.5,1\n").message).toBe('t.csv:2: minute "0.5" is not a whole number >= 0');
  });

  it("rejects an irregular ISO step, naming the line that set the step", () => {
    const e = invalid(
      "time,value\n2014-04-10T00:00:00Z,1\n2014-04-10T00:05:00Z,1\n2014-04-10T00:10:00Z,1\n2014-04-10T00:20:00Z,1\n",
    );
    expect(e.message).toBe(
      "t.csv:5: time 2014-04-10T00:20:00Z is 600 s after the previous row, but the trace's step is 300 s (set by line 3)",
    );
    expect(e.hint).toContain("fixed step");
  });

  it("rejects times that go backwards or are not ISO 8601", () => {
    expect(invalid("time,value\n2014-04-10T00:05:00Z,1\n2014-04-10T00:00:00Z,1\n").message).toBe(
      "t.csv:3: time 2014-04-10T00:00:00Z is not after the previous row's (line 2)",
    );
    expect(invalid("time,value\n1397088000,1\n1397088060,1\n").message).toBe(
      't.csv:2: time "1397088000" is not an ISO 8601 date and time',
    );
    expect(invalid("time,value\n2014-13-01T00:00:00Z,1\n").message).toContain("t.csv:2:");
  });

  it("rejects an empty trace, a header without rows, and a time trace of one row", () => {
    expect(invalid("\n\n").message).toBe("t.csv: the trace is empty");
    expect(invalid("minute,value\n\n").message).toBe("t.csv:1: the trace has a header but no rows");
    expect(invalid("time,value\n2014-04-10T00:00:00Z,1\n").message).toContain("needs at least two rows");
  });

  it("readTrace names a missing file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dynosaur-trace-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    await expect(readTrace(join(dir, "nope.csv"), "nope.csv")).rejects.toMatchObject({
      code: "DYNO_TRACE_NOT_FOUND",
      exitCode: 2,
      message: "trace file nope.csv does not exist",
    });
    writeFileSync(join(dir, "t.csv"), "minute,value\n0,x\n");
    await expect(readTrace(join(dir, "t.csv"), "t.csv")).rejects.toMatchObject({
      message: 't.csv:2: value "x" is not a number',
    });
  });
});
