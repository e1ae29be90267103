import type { components } from "./generated/openapi.js";

/** Every 4xx/5xx body the service sends. */
export type ErrorBody = components["schemas"]["ErrorBody"];

/** What the `RateLimit-*` headers of an answer said (absent headers: no object). */
export interface RateLimitInfo {
  /** Requests allowed per window. */
  limit: number;
  /** Requests left in the current window. */
  remaining: number;
  /** Seconds until the window frees a request. */
  resetSeconds: number;
}

/** The service answered with an error status (after any retries). */
export class LeaderboardError extends Error {
  override readonly name: string = "LeaderboardError";
  /** The HTTP status. */
  readonly status: number;
  /** The service's error body, or null when the answer was not one (a proxy's page). */
  readonly body: ErrorBody | null;
  /** On a submission: the key it was sent with. Send it again to retry it exactly once. */
  readonly idempotencyKey: string | undefined;

  constructor(status: number, body: ErrorBody | null, idempotencyKey?: string) {
    super(body?.detail ?? `the service answered ${status}`);
    this.status = status;
    this.body = body;
    this.idempotencyKey = idempotencyKey;
  }

  /** A 400's offending field (a body field, a query parameter or a header). */
  get field(): string | undefined {
    return this.body?.field;
  }
}

/** 429: over a rate limit. Nothing was changed; try again at `retryAt`. */
export class RateLimitedError extends LeaderboardError {
  override readonly name = "RateLimitedError";
  /** `Retry-After`, in seconds (at least 1). */
  readonly retryAfterSeconds: number;
  /** When to try again, from the client's clock. */
  readonly retryAt: Date;
  readonly rateLimit: RateLimitInfo | null;

  constructor(
    body: ErrorBody | null,
    retryAfterSeconds: number,
    rateLimit: RateLimitInfo | null,
    idempotencyKey?: string,
  ) {
    super(429, body, idempotencyKey);
    this.retryAfterSeconds = retryAfterSeconds;
    this.retryAt = new Date(Date.now() + retryAfterSeconds * 1000);
    this.rateLimit = rateLimit;
  }
}

/**
 * 503 on every attempt: Postgres or Redis is unavailable. On a submission,
 * `outcomeUnknown` says the last attempt may have been applied: submit again later with
 * `idempotencyKey` and it is applied exactly once.
 */
export class UnavailableError extends LeaderboardError {
  override readonly name = "UnavailableError";

  /** `postgres` or `redis`, as the service named it. */
  get dependency(): string | undefined {
    return this.body?.dependency;
  }

  get outcomeUnknown(): boolean {
    return this.body?.outcome === "unknown";
  }
}

/**
 * No answer on every attempt: the connection failed, broke, or timed out (a browser also
 * reports an answer without CORS headers this way). On a submission the request may have
 * reached the service: submit again with `idempotencyKey` to apply it exactly once.
 */
export class NetworkError extends Error {
  override readonly name = "NetworkError";
  readonly idempotencyKey: string | undefined;

  constructor(message: string, cause: unknown, idempotencyKey?: string) {
    super(message, { cause });
    this.idempotencyKey = idempotencyKey;
  }
}

/** A live subscription that cannot go on: the board is unknown, or the resume id is bad. */
export class SubscriptionError extends Error {
  override readonly name = "SubscriptionError";
  /** The WebSocket close code: 4404 unknown board, 4400 bad `last_event_id`. */
  readonly code: number;

  constructor(code: number, reason: string) {
    super(reason || `the event stream was closed with code ${code}`);
    this.code = code;
  }
}
