/**
 * Requests typed by the service's OpenAPI document (src/generated/openapi.ts): a path the
 * document does not have, a parameter it does not name or a body of another shape is a
 * compile error, and an answer has the type the document gives it. Retries live here.
 */
import {
  type ErrorBody,
  LeaderboardError,
  NetworkError,
  RateLimitedError,
  type RateLimitInfo,
  UnavailableError,
} from "./errors.js";
import type { paths } from "./generated/openapi.js";
import { backoffMs, type RetryPolicy, retryAfterSeconds, sleep } from "./retry.js";

type Method = "get" | "post" | "patch" | "delete";
type Path = keyof paths;
/** The methods the document lists for `P`. */
export type MethodOf<P extends Path> = {
  [M in Method]: [NonNullable<paths[P][M]>] extends [never] ? never : M;
}[Method];
type Operation<P extends Path, M extends MethodOf<P>> = NonNullable<paths[P][M]>;
type Parameters<P extends Path, M extends MethodOf<P>> = Operation<P, M>["parameters"];
type JsonOf<R> = R extends { content: { "application/json": infer T } } ? T : undefined;
type Responses<P extends Path, M extends MethodOf<P>> = Operation<P, M>["responses"];
/** The body of the operation's success answers (2xx), as the document describes it. */
export type Success<P extends Path, M extends MethodOf<P>> = {
  [S in keyof Responses<P, M>]: S extends 200 | 201 | 202 | 204
    ? JsonOf<Responses<P, M>[S]>
    : never;
}[keyof Responses<P, M>];
type BodyOf<O> = O extends { requestBody: { content: { "application/json": infer B } } }
  ? B
  : O extends { requestBody?: { content: { "application/json": infer B } } }
    ? B | undefined
    : undefined;

/** `path` is required exactly when the operation has path parameters. */
type PathPart<T> = [NonNullable<T>] extends [never] ? { path?: undefined } : { path: T };

export type Request<P extends Path, M extends MethodOf<P>> = PathPart<Parameters<P, M>["path"]> &
  RequestOptions<P, M>;

interface RequestOptions<P extends Path, M extends MethodOf<P>> {
  query?: Parameters<P, M>["query"];
  body?: BodyOf<Operation<P, M>>;
  headers?: Record<string, string>;
  /** Retry on network errors, timeouts and 503 (only for requests that are safe to repeat). */
  retry?: boolean;
  /** Also retry a 409 after the first attempt (a keyed submission still in flight). */
  retryConflicts?: boolean;
  /** A submission's key, carried by the errors so the caller can retry later. */
  idempotencyKey?: string;
  signal?: AbortSignal | undefined;
}

export interface Answer<T> {
  body: T;
  status: number;
  headers: Headers;
  /** Attempts made, the first included. */
  attempts: number;
}

export interface TransportOptions {
  baseUrl: string;
  retry: RetryPolicy;
  fetch: typeof fetch;
  /** The `Authorization` header's credentials now, if any. */
  bearer: () => string | undefined;
}

export class Transport {
  constructor(private readonly options: TransportOptions) {}

  /** `baseUrl` + `template` with its `{name}` parts filled from `params`, and a query. */
  url(template: string, params: object | undefined, query?: object | undefined): string {
    const values = (params ?? {}) as Record<string, string | number>;
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = values[name];
      if (value === undefined) throw new TypeError(`missing path parameter ${name}`);
      return encodeURIComponent(String(value));
    });
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) search.set(name, String(value));
    }
    const tail = search.toString() === "" ? "" : `?${search.toString()}`;
    return `${this.options.baseUrl.replace(/\/+$/, "")}${path}${tail}`;
  }

  async call<P extends Path, M extends MethodOf<P>>(
    path: P,
    method: M,
    request: Request<P, M>,
  ): Promise<Answer<Success<P, M>>> {
    const url = this.url(path, request.path, request.query);
    const policy = this.options.retry;
    const attempts = request.retry === false ? 1 : Math.max(1, policy.attempts);
    for (let attempt = 1; ; attempt++) {
      let wait: number | undefined;
      try {
        const response = await this.send(url, method, request);
        if (response.ok) {
          const json: unknown = response.status === 204 ? undefined : await response.json();
          const body = json as Success<P, M>;
          return { body, status: response.status, headers: response.headers, attempts: attempt };
        }
        const error = await errorFrom(response, request.idempotencyKey);
        const inFlight = response.status === 409 && request.retryConflicts === true && attempt > 1;
        const retryable = response.status === 503 || inFlight;
        if (!retryable || attempt >= attempts) throw error;
        wait = retryAfterSeconds(response.headers.get("Retry-After"));
      } catch (error) {
        if (error instanceof LeaderboardError || request.signal?.aborted) throw error;
        // fetch rejects with a TypeError when no answer came (refused, reset, CORS, our
        // timeout): the request may or may not have reached the service.
        if (attempt >= attempts) {
          const message = `no answer from ${url}: ${String(error)}`;
          throw new NetworkError(message, error, request.idempotencyKey);
        }
      }
      const delay = Math.max(backoffMs(policy, attempt), (wait ?? 0) * 1000);
      await sleep(Math.min(delay, policy.maxDelayMs), request.signal);
    }
  }

  private async send<P extends Path, M extends MethodOf<P>>(
    url: string,
    method: M,
    request: Request<P, M>,
  ): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json", ...request.headers };
    const bearer = this.options.bearer();
    if (bearer !== undefined) headers["Authorization"] = `Bearer ${bearer}`;
    let body: string | undefined;
    if (request.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(request.body);
    }
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new DOMException("the request timed out", "TimeoutError")),
      this.options.retry.timeoutMs,
    );
    const cancel = (): void => timeout.abort(request.signal?.reason);
    request.signal?.addEventListener("abort", cancel, { once: true });
    try {
      const init: RequestInit = { method: method.toUpperCase(), headers, signal: timeout.signal };
      if (body !== undefined) init.body = body;
      const response = await this.options.fetch(url, init);
      // Read the body before the timer stops: a body that never ends is a timeout too.
      const text = response.status === 204 ? null : await response.text();
      return new Response(text, { status: response.status, headers: response.headers });
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", cancel);
    }
  }
}

/** The typed error for an error answer. */
async function errorFrom(
  response: Response,
  idempotencyKey: string | undefined,
): Promise<LeaderboardError> {
  let body: ErrorBody | null = null;
  try {
    const parsed: unknown = await response.json();
    if (isErrorBody(parsed)) body = parsed;
  } catch {
    // not JSON: a proxy's error page
  }
  if (response.status === 429) {
    const seconds = retryAfterSeconds(response.headers.get("Retry-After")) ?? 1;
    return new RateLimitedError(body, seconds, rateLimitOf(response.headers), idempotencyKey);
  }
  if (response.status === 503) return new UnavailableError(503, body, idempotencyKey);
  return new LeaderboardError(response.status, body, idempotencyKey);
}

function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as ErrorBody).status_code === "number" &&
    typeof (value as ErrorBody).detail === "string"
  );
}

/** The `RateLimit-*` headers, when the answer has them. */
export function rateLimitOf(headers: Headers): RateLimitInfo | null {
  const limit = headers.get("RateLimit-Limit");
  const remaining = headers.get("RateLimit-Remaining");
  const reset = headers.get("RateLimit-Reset");
  if (limit === null || remaining === null || reset === null) return null;
  return { limit: Number(limit), remaining: Number(remaining), resetSeconds: Number(reset) };
}
