import type { RouterFeed } from "./feed.js";
import { parseLogplexBody } from "./logplex.js";

/** What one drain delivery brought. */
export interface DeliveryResult {
  /** Messages read from the body. */
  messages: number;
  /** Frames skipped: unreadable, or fewer than `Logplex-Msg-Count` said. */
  malformed: number;
  /** The delivery was a retry of one already taken (same `Logplex-Frame-Id`): nothing counted. */
  duplicate: boolean;
}

/**
 * Takes one Logplex delivery into `feed`: parses the body, counts unreadable frames (and
 * frames `Logplex-Msg-Count` announced but the body lacked) and skips a retried frame id.
 * Never throws on what the body holds.
 */
export function takeDelivery(
  feed: RouterFeed,
  body: Uint8Array,
  headers: { msgCount?: string | null; frameId?: string | null },
  now: number,
): DeliveryResult {
  const parsed = parseLogplexBody(body);
  const announced = Number(headers.msgCount);
  const missing =
    Number.isInteger(announced) && announced > 0
      ? Math.max(0, announced - parsed.messages.length - parsed.malformed)
      : 0;
  const malformed = parsed.malformed + missing;
  const taken = feed.ingest(parsed.messages, now, headers.frameId ?? null, malformed);
  return { messages: taken ? parsed.messages.length : 0, malformed, duplicate: !taken };
}
