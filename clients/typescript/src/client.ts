import type { RateLimitInfo } from "./errors.js";
import type { components, operations } from "./generated/openapi.js";
import { rateLimitOf, Transport } from "./http.js";
import { newIdempotencyKey } from "./ids.js";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry.js";
import {
  EventSubscription,
  type SubscribeOptions,
  type WebSocketConstructor,
} from "./subscription.js";

type Schemas = components["schemas"];
export type DeviceAuthResponse = Schemas["DeviceAuthResponse"];
export type SubmitResult = Schemas["SubmitResult"];
export type HeldResult = Schemas["HeldResult"];
export type Page = Schemas["Page"];
export type Entry = Schemas["Entry"];
export type PlayerEntry = Schemas["PlayerEntry"];
export type HistogramPage = Schemas["HistogramPage"];
export type History = Schemas["History"];
export type Board = Schemas["Board"];
export type Profile = Schemas["Profile"];
type QueryOf<O extends keyof operations> = NonNullable<operations[O]["parameters"]["query"]>;
export type TopQuery = QueryOf<"getTop">;
export type AroundQuery = QueryOf<"getAround">;
export type EntryQuery = QueryOf<"getEntry">;
export type PlayersQuery = Omit<QueryOf<"getPlayers">, "ids">;
export type HistogramQuery = QueryOf<"getHistogram">;
export type HistoryQuery = QueryOf<"getHistory">;

export interface ClientOptions {
  /** Where the service is, e.g. `https://leaderboard.example.com`. */
  baseUrl: string;
  /** A player's session token (from `signInDevice`, which sets it). */
  token?: string;
  /**
   * A server key, for game servers (never ship it in a browser game): submissions then
   * name the player with `playerId`. Not together with `token`.
   */
  serverKey?: string;
  /** Retries on network errors, timeouts and 503; defaults in `DEFAULT_RETRY`. */
  retry?: Partial<RetryPolicy>;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Defaults to the global `WebSocket` (Node 22+ and browsers have one). */
  WebSocket?: WebSocketConstructor;
}

export interface SubmitOptions {
  /** Free-form JSON kept with the score (≤ 4 KiB). */
  metadata?: Record<string, unknown>;
  /** The player, when submitting with a server key. */
  playerId?: string;
  /**
   * The submission's key. By default a new one per call, reused by that call's retries.
   * Pass the key of an earlier call that failed (`error.idempotencyKey`) to retry it later:
   * it is applied exactly once, for 24 hours.
   */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface Submitted {
  /** The service's answer (the same again for a replay). When the board held the
   * submission for review (`held` is set), it carries only `player_id` and `score`. */
  result: SubmitResult;
  /** Set when the board held the submission for review (202): it counts once approved. */
  held: HeldResult | null;
  /** True when an earlier attempt had been applied and this is its answer, replayed. */
  replayed: boolean;
  idempotencyKey: string;
  /** Attempts made, the first included. */
  attempts: number;
  rateLimit: RateLimitInfo | null;
}

export class LeaderboardClient {
  readonly baseUrl: string;
  private token: string | undefined;
  private readonly serverKey: string | undefined;
  private readonly http: Transport;
  private readonly WebSocketImpl: WebSocketConstructor | undefined;
  private readonly reconnectPolicy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">;

  constructor(options: ClientOptions) {
    if (options.token !== undefined && options.serverKey !== undefined) {
      throw new TypeError("give a player token or a server key, not both");
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.token = options.token;
    this.serverKey = options.serverKey;
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    this.reconnectPolicy = retry;
    this.WebSocketImpl =
      options.WebSocket ?? (globalThis.WebSocket as WebSocketConstructor | undefined);
    const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.http = new Transport({
      baseUrl: this.baseUrl,
      retry,
      fetch: fetchImpl,
      bearer: () => this.serverKey ?? this.token,
    });
  }

  /** The player's session token, once signed in. */
  get sessionToken(): string | undefined {
    return this.token;
  }

  /**
   * Signs in with a device id (8–128 characters; keep it, e.g. in localStorage): the first
   * call creates the player, later ones return the same player. The client keeps the token.
   */
  async signInDevice(deviceId: string, displayName?: string): Promise<DeviceAuthResponse> {
    const body =
      displayName === undefined
        ? { device_id: deviceId }
        : { device_id: deviceId, display_name: displayName };
    // Safe to repeat: the same device gets the same player (and a new token).
    const answer = await this.http.call("/v1/auth/device", "post", { body });
    this.token = answer.body.token;
    return answer.body;
  }

  /** Ends the session: the token stops working at once. */
  async signOut(): Promise<void> {
    await this.http.call("/v1/auth/session", "delete", { retry: false });
    this.token = undefined;
  }

  /** The signed-in player's profile. */
  async me(): Promise<Profile> {
    return (await this.http.call("/v1/players/me", "get", {})).body;
  }

  async board(boardId: string): Promise<Board> {
    const path = { board_id: boardId };
    return (await this.http.call("/v1/leaderboards/{board_id}", "get", { path })).body;
  }

  /**
   * Submits a score with an `Idempotency-Key`, retrying network errors, timeouts and 503
   * with backoff under the same key: however many attempts reach the service, it is
   * applied once. A 429 throws `RateLimitedError` (nothing changed; `retryAt` says when);
   * a submission still unanswered after every attempt throws with its `idempotencyKey`.
   */
  async submitScore(
    boardId: string,
    score: number,
    options: SubmitOptions = {},
  ): Promise<Submitted> {
    if (!Number.isSafeInteger(score)) {
      throw new TypeError(`score must be a safe integer, not ${score}`);
    }
    if (this.serverKey !== undefined && options.playerId === undefined) {
      throw new TypeError("a server key submits for a player: give playerId");
    }
    const idempotencyKey = options.idempotencyKey ?? newIdempotencyKey();
    const body: Schemas["ScoreSubmission"] = { score };
    if (options.metadata !== undefined) body.metadata = options.metadata;
    if (options.playerId !== undefined) body.player_id = options.playerId;
    const answer = await this.http.call("/v1/leaderboards/{board_id}/scores", "post", {
      path: { board_id: boardId },
      body,
      headers: { "Idempotency-Key": idempotencyKey },
      // A repeat while an earlier attempt is still being processed answers 409.
      retryConflicts: true,
      idempotencyKey,
      signal: options.signal,
    });
    const held = answer.status === 202 ? (answer.body as HeldResult) : null;
    return {
      result: answer.body as SubmitResult,
      held,
      replayed: answer.headers.get("Idempotent-Replayed") === "true",
      idempotencyKey,
      attempts: answer.attempts,
      rateLimit: rateLimitOf(answer.headers),
    };
  }

  /** A page of the board, best first (`limit` 1–1000, `offset`, `period`). */
  async top(boardId: string, query: TopQuery = {}): Promise<Page> {
    const path = { board_id: boardId };
    return (await this.http.call("/v1/leaderboards/{board_id}/top", "get", { path, query })).body;
  }

  /** The player's entry with up to `radius` entries on each side. */
  async around(boardId: string, playerId: string, query: AroundQuery = {}): Promise<Page> {
    const path = { board_id: boardId, player_id: playerId };
    const answer = await this.http.call(
      "/v1/leaderboards/{board_id}/players/{player_id}/around",
      "get",
      { path, query },
    );
    return answer.body;
  }

  /** The player's entry: score, rank, percentile, points to the next rank (404: none). */
  async entry(boardId: string, playerId: string, query: EntryQuery = {}): Promise<PlayerEntry> {
    const path = { board_id: boardId, player_id: playerId };
    const answer = await this.http.call("/v1/leaderboards/{board_id}/players/{player_id}", "get", {
      path,
      query,
    });
    return answer.body;
  }

  /** A friends leaderboard: those of `playerIds` (1–100) with an entry, ranked on the board. */
  async players(
    boardId: string,
    playerIds: readonly string[],
    query: PlayersQuery = {},
  ): Promise<Page> {
    const path = { board_id: boardId };
    const withIds = { ...query, ids: playerIds.join(",") };
    const answer = await this.http.call("/v1/leaderboards/{board_id}/players", "get", {
      path,
      query: withIds,
    });
    return answer.body;
  }

  /** How the scores spread: equal-width buckets from the lowest to the highest score. */
  async histogram(boardId: string, query: HistogramQuery = {}): Promise<HistogramPage> {
    const path = { board_id: boardId };
    const answer = await this.http.call("/v1/leaderboards/{board_id}/histogram", "get", {
      path,
      query,
    });
    return answer.body;
  }

  /** The player's rank in each period, newest first (final ranks once ended), and the best. */
  async history(boardId: string, playerId: string, query: HistoryQuery = {}): Promise<History> {
    const path = { board_id: boardId, player_id: playerId };
    const answer = await this.http.call(
      "/v1/leaderboards/{board_id}/players/{player_id}/history",
      "get",
      { path, query },
    );
    return answer.body;
  }

  /**
   * Live events of a board over a WebSocket that reconnects with backoff and resumes from
   * the last event received: none lost (of those the board's stream keeps) or repeated.
   */
  subscribe(boardId: string, options: SubscribeOptions): EventSubscription {
    if (this.WebSocketImpl === undefined) {
      throw new TypeError("no WebSocket here: pass one as the WebSocket option");
    }
    const http = this.http.url("/v1/leaderboards/{board_id}/ws", { board_id: boardId });
    return new EventSubscription(http.replace(/^http/, "ws"), this.WebSocketImpl, {
      reconnect: this.reconnectPolicy,
      ...options,
    });
  }
}
