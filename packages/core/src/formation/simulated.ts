import type { Clock } from "../clock.js";

/** A process type's formation as Dynosaur needs it. */
export interface FormationState {
  quantity: number;
  /** When Heroku last changed it (ms), if known. */
  updatedAt: number | null;
}

/** Where the scaler reads and sets the quantity: Heroku, or a simulation in a dry run. */
export interface FormationApi {
  getFormation(signal?: AbortSignal): Promise<FormationState>;
  scale(quantity: number, signal?: AbortSignal): Promise<FormationState>;
}

/**
 * The formation of a dry run: kept in memory, never on the network. It starts at
 * `initial` (the config's `min_dynos`) with no known last change, so no blackout holds
 * at start.
 */
export class SimulatedFormation implements FormationApi {
  #state: FormationState;
  readonly #clock: Clock;

  constructor(initial: number, clock: Clock) {
    this.#state = { quantity: initial, updatedAt: null };
    this.#clock = clock;
  }

  async getFormation(): Promise<FormationState> {
    return { ...this.#state };
  }

  async scale(quantity: number): Promise<FormationState> {
    this.#state = { quantity, updatedAt: this.#clock.now() };
    return { ...this.#state };
  }
}
