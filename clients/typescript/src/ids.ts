/**
 * A new Idempotency-Key: 32 random hex characters (128 bits). `crypto.getRandomValues`
 * works in every browser context (`randomUUID` only in secure ones) and in Node.
 */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Compares two event ids (`<milliseconds>-<sequence>`, a Redis stream id): negative when
 * `a` came first. Compared as digit strings, so ids beyond 2^53 compare exactly too.
 */
export function compareEventIds(a: string, b: string): number {
  const [aTime = "", aSeq = ""] = a.split("-");
  const [bTime = "", bSeq = ""] = b.split("-");
  return compareDigits(aTime, bTime) || compareDigits(aSeq, bSeq);
}

function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
