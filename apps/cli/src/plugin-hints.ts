import { closest } from "@dynosaur/core";

/**
 * The words of a plugin that was not found: a "did you mean" for a mistyped `use:` entry, and
 * how to install a package while Dynosaur's own are not on npm yet.
 */

/**
 * The first-party `use:` entry `spec` probably meant: the package of a plugin type written as
 * the entry (`sidekiq` → `redis-queue`), or a close spelling (`randon` → `random`).
 * `firstParty` maps each short name and type to its package's short name.
 */
export function suggestUse(spec: string, firstParty: Readonly<Record<string, string>>): string | undefined {
  const own = firstParty[spec];
  if (own && own !== spec) return own;
  if (own) return undefined;
  const near = closest(spec, Object.keys(firstParty));
  return near === undefined ? undefined : firstParty[near];
}

/**
 * How to install `pkg`. Dynosaur's own packages are not on npm until the first release:
 * from a clone, scripts/install-from-clone.sh installs them with the CLI.
 */
export function installHint(pkg: string): string {
  const own = /^@dynosaur\/(?:plugin-)?(.+)$/.exec(pkg);
  if (!own) return `npm install ${pkg}`;
  const name = pkg.startsWith("@dynosaur/plugin-") ? own[1] : pkg;
  return `npm install ${pkg} (until it is on npm, from a clone of Dynosaur: bash scripts/install-from-clone.sh ${name})`;
}
