/**
 * A hint worded for the running engine (which retries on the next tick and keeps the last good
 * reading meanwhile), reworded for a one-shot check such as `dynosaur doctor`, which has neither.
 */
export function oneShotHint(hint: string): string {
  let retried = false;
  let out = hint.replace(/[\s;,.]*\bthe next tick tries again\b\.?/gi, () => {
    retried = true;
    return "";
  });
  out = out.replace(/[\s;,]*\bthe last good reading stands\b( meanwhile)?/gi, "");
  out = out.replace(/^[\s;,]+/, "").trim();
  if (retried) out = `${out ? `${out.replace(/[.;]$/, "")}; ` : ""}run \`dynosaur doctor\` again to check once more`;
  return out;
}
