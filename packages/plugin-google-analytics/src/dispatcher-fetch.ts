import { promisify } from "node:util";
import { brotliDecompress, gunzip, inflate } from "node:zlib";
import type { PluginContext } from "@dynosaur/core";

export type HttpDispatcher = PluginContext["http"];

/** The `fetch` gaxios calls (its `fetchImplementation` option). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

const decoders: Record<string, (buf: Buffer) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  "x-gzip": promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

/**
 * A `fetch` that sends every request through `dispatcher` (core's `ctx.http`), so that
 * google-auth-library and the googleapis client (both built on gaxios) obey the proxy or
 * test routing core hands the plugin instead of opening their own connections.
 *
 * It uses the dispatcher's own `request()` rather than Node's global `fetch({ dispatcher })`,
 * because Node bundles a different undici major than the one core's dispatcher comes from.
 *
 * `signal()` supplies one more abort signal for requests whose callers cannot pass one
 * (google-auth-library's token request).
 */
export function dispatcherFetch(dispatcher: HttpDispatcher, signal?: () => AbortSignal | undefined): FetchLike {
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    let body: Buffer | undefined;
    if (init.body !== undefined && init.body !== null) {
      // Response normalizes every BodyInit (string, URLSearchParams, bytes...) and its content type.
      const normalized = new Response(init.body);
      body = Buffer.from(await normalized.arrayBuffer());
      const contentType = normalized.headers.get("content-type");
      if (contentType && !headers.has("content-type")) headers.set("content-type", contentType);
    }
    const signals = [init.signal, signal?.()].filter((s): s is AbortSignal => s != null);

    const res = await dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: method as "GET",
      headers: Object.fromEntries(headers),
      ...(body ? { body } : {}),
      ...(signals.length > 0 ? { signal: signals.length === 1 ? signals[0] : AbortSignal.any(signals) } : {}),
    });

    const responseHeaders = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
    }
    let payload: Buffer = Buffer.from(await res.body.arrayBuffer());
    const encoding = responseHeaders.get("content-encoding")?.trim().toLowerCase();
    const decode = encoding ? decoders[encoding] : undefined;
    if (decode && payload.length > 0) {
      payload = await decode(payload);
      responseHeaders.delete("content-encoding");
      responseHeaders.set("content-length", String(payload.length));
    }
    const noBody = res.statusCode === 204 || res.statusCode === 304 || method === "HEAD";
    return new Response(noBody ? null : new Uint8Array(payload), { status: res.statusCode, headers: responseHeaders });
  };
}
