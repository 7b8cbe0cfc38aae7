import type { YAMLError } from "yaml";

/**
 * A YAML syntax error in plain words, at the line to fix. The parser reports some indentation
 * mistakes at the line above the bad one (`dry_run: true` followed by a line indented further:
 * "Nested mappings are not allowed in compact mappings" at the `true`); those are moved to the
 * line that is indented wrong and said as such.
 */
export function describeYamlError(
  text: string,
  error: YAMLError,
): { line: number | null; column: number | null; reason: string } {
  const pos = error.linePos?.[0];
  const lines = text.split(/\r?\n/);
  const jargon = (error.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+.*$/, "").replace(/:$/, "");
  if (!pos) return { line: null, column: null, reason: jargon };
  const indent = (n: number) => /^ */.exec(lines[n - 1] ?? "")?.[0].length ?? 0;
  const show = (n: number) => `\`${(lines[n - 1] ?? "").trim()}\``;
  switch (error.code) {
    case "BLOCK_AS_IMPLICIT_KEY":
    case "MULTILINE_IMPLICIT_KEY": {
      const next = nextContentLine(lines, pos.line);
      if (next !== null && indent(next) > indent(pos.line))
        return {
          line: next,
          column: indent(next) + 1,
          reason: `${show(next)} is indented further than the line above it (${show(pos.line)}): keys of one section start at the same column, and a nested one goes under a key that ends with ":"`,
        };
      return {
        line: pos.line,
        column: pos.col,
        reason: `a value on this line runs into the next line, or a "key: value" sits inside another value (quote a value that contains ": ")`,
      };
    }
    case "BAD_INDENT":
      return {
        line: pos.line,
        column: pos.col,
        reason: `${show(pos.line)} starts at column ${indent(pos.line) + 1}, not where the keys beside it start`,
      };
    case "TAB_AS_INDENT":
      return { line: pos.line, column: pos.col, reason: "this line is indented with a tab; YAML indents with spaces" };
    default:
      return { line: pos.line, column: pos.col, reason: jargon };
  }
}

/** The number of the first line after `line` that holds more than spaces or a comment. */
function nextContentLine(lines: readonly string[], line: number): number | null {
  for (let n = line + 1; n <= lines.length; n++) {
    const content = (lines[n - 1] ?? "").trim();
    if (content !== "" && !content.startsWith("#")) return n;
  }
  return null;
}
