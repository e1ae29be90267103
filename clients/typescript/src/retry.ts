/** How requests are retried: on network errors, timeouts and 503, with exponential backoff. */
export interface RetryPolicy {
  /** Attempts in all, the first included (1: never retry). */
  attempts: number;
  /** The first retry waits about this long; each next one twice as long... */
  baseDelayMs: number;
  /** ...up to this. */
  maxDelayMs: number;
  /** An attempt without an answer by then is abandoned, and counts as a network error. */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  timeoutMs: 10_000,
};

/**
 * The wait before retry number `retry` (1 for the first): exponential, capped, with
 * "equal jitter" (half fixed, half random) so that clients cut off together do not all
 * come back in the same instant.
 */
export function backoffMs(
  policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">,
  retry: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return cap / 2 + (random() * cap) / 2;
}

/** Resolves after `ms`; rejects with the signal's reason if it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * `Retry-After` in seconds: a number of seconds or an HTTP date (the service sends
 * seconds); undefined when absent or unreadable.
 */
export function retryAfterSeconds(
  header: string | null,
  now: number = Date.now(),
): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}
