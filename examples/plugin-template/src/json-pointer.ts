/**
 * JSON Pointer (RFC 6901): `/data/active_users` names `body.data.active_users`, `/items/0`
 * an array's first element, `""` the whole document. `~1` stands for `/` inside a key and
 * `~0` for `~`.
 */

/** Splits a pointer into its keys, once at start-up; throws a SyntaxError saying what is wrong. */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new SyntaxError('it must be empty or start with "/"');
  return pointer
    .slice(1)
    .split("/")
    .map((token) => {
      if (/~(?![01])/.test(token)) throw new SyntaxError(`"~" must be followed by 0 or 1 (in "${token}")`);
      // In this order, or "~01" would wrongly become "/".
      return token.replaceAll("~1", "/").replaceAll("~0", "~");
    });
}

export type Resolved = { found: true; value: unknown } | { found: false; missing: string };

/** Follows parsed keys into a JSON document; `missing` is the pointer to the first key not found. */
export function resolveJsonPointer(document: unknown, keys: readonly string[]): Resolved {
  let node = document;
  let at = "";
  for (const key of keys) {
    at += `/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
    if (Array.isArray(node)) {
      if (!/^(0|[1-9][0-9]*)$/.test(key) || Number(key) >= node.length) return { found: false, missing: at };
      node = node[Number(key)];
    } else if (typeof node === "object" && node !== null && Object.hasOwn(node, key)) {
      node = (node as Record<string, unknown>)[key];
    } else {
      return { found: false, missing: at };
    }
  }
  return { found: true, value: node };
}
