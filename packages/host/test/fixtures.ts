import { afterEach, beforeEach } from "vitest";

export { gaSource, nrSource, sampleTick } from "@dynosaur/core/testing";

/**
 * Opens what `open` returns (loopback fakes, HTTP agents) before each test and closes it all
 * after, so no test leaks a server or a socket into the next.
 */
export function eachTest(open: () => Promise<Array<{ close(): Promise<unknown> }>>): void {
  let opened: Array<{ close(): Promise<unknown> }> = [];
  beforeEach(async () => {
    opened = await open();
  });
  afterEach(async () => {
    await Promise.all(opened.map((o) => o.close()));
  });
}

/**
 * Waits until `check()` holds, polling every 25 ms of real time, for what only a real
 * server decides (a PostgreSQL lock changing hands); `ms` bounds the wait.
 */
export async function until(check: () => boolean, ms: number, what: string): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return performance.now() - started;
}
