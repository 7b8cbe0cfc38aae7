/** The oldest Node.js Dynosaur runs on: its dependencies (undici, OpenTelemetry, Google's client) need it. */
export const MIN_NODE = "22.19.0";

/**
 * Why this Node.js cannot run Dynosaur, or null when it can. Checked before anything else
 * loads: on an older Node the first failure would be an import error that names nothing useful.
 */
export function nodeVersionProblem(version: string): string | null {
  const [major = 0, minor = 0] = version.replace(/^v/, "").split(".").map(Number);
  const [minMajor = 0, minMinor = 0] = MIN_NODE.split(".").map(Number);
  if (major > minMajor || (major === minMajor && minor >= minMinor)) return null;
  return `dynosaur needs Node.js ${MIN_NODE} or newer (24 LTS recommended); this is ${version.startsWith("v") ? version : `v${version}`}. Install a current Node.js (https://nodejs.org) and run it again.`;
}
