// Prints vitest's JSON report as the one closing line CI reads: "N passed, N failed".
// A run that executed no test, or whose report is missing, counts as a failure.
import { readFileSync } from "node:fs";

const file = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(file, "utf8"));
} catch {
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// A test file that failed without a failing test (it did not load, or a hook threw) counts
// as one failure: its tests never ran.
const brokenFiles = (report.testResults ?? []).filter(
  (s) => s.status === "failed" && !(s.assertionResults ?? []).some((a) => a.status === "failed"),
).length;
const failed = (report.numFailedTests ?? 0) + brokenFiles;
console.log(`${passed} passed, ${failed} failed`);
process.exit(passed > 0 && failed === 0 ? 0 : 1);
