import type { Clock, Logger } from "@dynosaur/core";
import { GoogleToken, gaxios } from "google-auth-library";
import type { FetchLike } from "./dispatcher-fetch.js";
import type { ServiceAccount } from "./service-account.js";

export const ANALYTICS_READONLY_SCOPE = "https://www.googleapis.com/auth/analytics.readonly";

/**
 * A token is renewed this long before it expires, as google-auth-library does by default,
 * so that a request never leaves with a token about to lapse.
 */
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

export interface AccessTokensOptions {
  account: ServiceAccount;
  tokenUrl: string;
  fetch: FetchLike;
  clock: Clock;
  logger: Logger;
}

/**
 * Access tokens from Google's service-account JWT bearer flow (google-auth-library's
 * `GoogleToken` signs the RS256 assertion and posts it to the token endpoint).
 *
 * The cache is ours rather than the library's because the library reads expiry from
 * `Date.now()`, while a plugin must read time from the scaler's clock; and because its
 * JWT client cannot be made to fetch a new token while its cached one looks unexpired,
 * which is what a 401 calls for.
 */
export class AccessTokens {
  readonly #gtoken: GoogleToken;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #cached: { token: string; expiresAt: number } | undefined;
  #pending: Promise<string> | undefined;
  #signal: AbortSignal | undefined;

  constructor(options: AccessTokensOptions) {
    this.#clock = options.clock;
    this.#logger = options.logger;
    const transport = new gaxios.Gaxios({ fetchImplementation: options.fetch });
    this.#gtoken = new GoogleToken({
      iss: options.account.clientEmail,
      key: options.account.privateKey,
      scope: [ANALYTICS_READONLY_SCOPE],
      transporter: {
        // The library posts to Google's URL; send it where the config says. One attempt per
        // poll: a failed token request fails the reading and the next poll tries again.
        request: (opts) =>
          transport.request({
            ...opts,
            url: options.tokenUrl,
            retry: false,
            retryConfig: { retry: 0 },
            signal: this.#signal,
          }),
      },
    });
  }

  /**
   * A token valid for a while yet. `fresh` forces a new one (after Google answered 401 to
   * the cached one).
   */
  async get(signal: AbortSignal, { fresh = false }: { fresh?: boolean } = {}): Promise<string> {
    const cached = this.#cached;
    if (!fresh && cached && this.#clock.now() < cached.expiresAt - REFRESH_BEFORE_EXPIRY_MS) return cached.token;
    if (fresh) this.#cached = undefined;
    this.#pending ??= this.#fetch(signal).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetch(signal: AbortSignal): Promise<string> {
    this.#signal = signal;
    try {
      const data = await this.#gtoken.getToken({ forceRefresh: true });
      if (!data.access_token) throw new Error("the token endpoint answered without an access_token");
      const expiresIn = typeof data.expires_in === "number" ? data.expires_in : 0;
      this.#cached = { token: data.access_token, expiresAt: this.#clock.now() + expiresIn * 1000 };
      this.#logger.debug("obtained a Google access token", { expires_in: expiresIn });
      return data.access_token;
    } finally {
      this.#signal = undefined;
    }
  }

  /** Forgets the cached token. */
  clear(): void {
    this.#cached = undefined;
  }
}
