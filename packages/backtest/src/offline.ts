import { DynosaurError } from "@dynosaur/core";
import type { Dispatcher } from "undici";

/**
 * The HTTP dispatcher plugins get in a simulation: it refuses every request, so a replay
 * can never reach a real service, even from a plugin's `create`.
 */
export async function offlineDispatcher(): Promise<Dispatcher> {
  // Loaded lazily, as the scaler does: undici is only needed once a replay runs.
  const { Dispatcher } = await import("undici");
  class Offline extends Dispatcher {
    override dispatch(options: Dispatcher.DispatchOptions): boolean {
      throw new DynosaurError(
        "DYNO_SIMULATION_OFFLINE",
        `a simulation makes no network calls, but a plugin asked for ${options.origin ? String(options.origin) : "a URL"}`,
        {
          hint: "recorded readings replace the plugins' own; a plugin that needs the network to start cannot be simulated",
        },
      );
    }
    // biome-ignore lint/suspicious/noExplicitAny: undici declares overloads that one implementation must cover.
    override close(callback?: () => void): any {
      if (callback) queueMicrotask(callback);
      else return Promise.resolve();
    }
    // biome-ignore lint/suspicious/noExplicitAny: as above.
    override destroy(...args: unknown[]): any {
      const callback = args.find((a): a is () => void => typeof a === "function");
      if (callback) queueMicrotask(callback);
      else return Promise.resolve();
    }
  }
  return new Offline();
}
