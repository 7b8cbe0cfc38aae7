import type { Clock } from "../clock.js";

/** A process type's formation as Dynosaur needs it. */
export interface FormationState {
  /** Process type, e.g. `web`. */
  type: string;
  quantity: number;
  /** When Heroku last changed it (ms), if known. */
  updatedAt: number | null;
}

/** Where the quantities are read and set: Heroku, or a simulation in a dry run. */
export interface FormationApi {
  /** Every process type's formation. */
  list(signal?: AbortSignal): Promise<FormationState[]>;
  /** Sets several process types in one call; returns their new formation. */
  update(updates: ReadonlyArray<{ type: string; quantity: number }>, signal?: AbortSignal): Promise<FormationState[]>;
  /**
   * The fewest milliseconds this port wants between two reads now, if it wants any (an API
   * budget shared by several apps stretches the poll interval). The controller reads no more
   * often than the largest of this and its own poll interval; a read before a change is never held back.
   */
  minPollIntervalMs?(): number;
}

/**
 * The formation of a dry run: kept in memory, never on the network. Each process type
 * starts at its `min_dynos` with no known last change, so no blackout holds at start.
 */
export class SimulatedFormation implements FormationApi {
  readonly #state = new Map<string, FormationState>();
  readonly #clock: Clock;

  constructor(initial: Record<string, number>, clock: Clock) {
    for (const [type, quantity] of Object.entries(initial)) this.#state.set(type, { type, quantity, updatedAt: null });
    this.#clock = clock;
  }

  async list(): Promise<FormationState[]> {
    return [...this.#state.values()].map((s) => ({ ...s }));
  }

  async update(updates: ReadonlyArray<{ type: string; quantity: number }>): Promise<FormationState[]> {
    return updates.map(({ type, quantity }) => {
      const state = { type, quantity, updatedAt: this.#clock.now() };
      this.#state.set(type, state);
      return { ...state };
    });
  }
}
