import { afterEach, beforeEach } from "vitest";

export { gaSource, nrSource, sampleTick } from "../src/testing/reports.js";

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
