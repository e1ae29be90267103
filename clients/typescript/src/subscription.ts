/**
 * A board's live events over the service's WebSocket (`/v1/leaderboards/{id}/ws`), kept
 * up across network drops and service restarts: it reconnects with backoff and passes
 * the id of the last event it received (`?last_event_id=`), so the service sends what
 * was missed first. Events are delivered in order, none twice.
 */
import { SubscriptionError } from "./errors.js";
import type { components } from "./generated/events.js";
import { compareEventIds } from "./ids.js";
import { backoffMs, type RetryPolicy } from "./retry.js";

type Schemas = components["schemas"];
export type RankChanged = Schemas["RankChanged"];
export type Overtaken = Schemas["Overtaken"];
export type EntryRemoved = Schemas["EntryRemoved"];
export type EntryRestored = Schemas["EntryRestored"];
/** The events a board publishes (docs/events.md). Types added later are skipped. */
export type LeaderboardEvent = RankChanged | Overtaken | EntryRemoved | EntryRestored;
/** This client read too slowly and the service dropped this many events: read the board again. */
export type EventsDropped = Schemas["EventsDropped"];

/**
 * `connecting`: the first connection is being made; `live`: subscribed, events flow;
 * `reconnecting`: the connection was lost, a new one is coming; `closed`: for good
 * (`close()`, or an error that no retry mends).
 */
export type SubscriptionStatus = "connecting" | "live" | "reconnecting" | "closed";

export type WebSocketConstructor = new (url: string) => WebSocket;

export interface SubscribeOptions {
  onEvent: (event: LeaderboardEvent) => void;
  onDropped?: (notice: EventsDropped) => void;
  onStatus?: (status: SubscriptionStatus) => void;
  /** The subscription ended for good: an unknown board (4404) or a bad resume id (4400). */
  onError?: (error: SubscriptionError) => void;
  /** Only the events about this player (their own, and those that name them as passed). */
  playerId?: string;
  /** Resume after this event id (for example one saved before a page reload). */
  lastEventId?: string;
  /** Reconnection backoff; defaults to the client's retry policy. */
  reconnect?: Partial<Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">>;
  /** No message for this long (the service sends a heartbeat every 15 s): reconnect. */
  heartbeatTimeoutMs?: number;
}

// Every type of LeaderboardEvent, and nothing else: a type the generated schemas gain is
// a compile error here until it is listed.
const KNOWN_EVENTS: Record<LeaderboardEvent["type"], true> = {
  rank_changed: true,
  overtaken: true,
  entry_removed: true,
  entry_restored: true,
};
/** Closes that no retry mends: 4404 unknown board, 4400 bad last_event_id. */
const FATAL_CLOSES = new Set([4400, 4404]);
const DEFAULT_HEARTBEAT_TIMEOUT_MS = 45_000;
const DEFAULT_RECONNECT = { baseDelayMs: 250, maxDelayMs: 8_000 };

export class EventSubscription {
  private statusNow: SubscriptionStatus = "connecting";
  private lastId: string | undefined;
  private socket: WebSocket | undefined;
  private retries = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setTimeout> | undefined;
  private readonly reconnect: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">;
  private readonly heartbeatTimeoutMs: number;
  /** Connections opened so far (the first included). */
  connections = 0;

  constructor(
    private readonly url: string,
    private readonly WebSocketImpl: WebSocketConstructor,
    private readonly options: SubscribeOptions,
  ) {
    this.lastId = options.lastEventId;
    this.reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS;
    globalThis.addEventListener?.("online", this.onOnline);
    this.open();
  }

  get status(): SubscriptionStatus {
    return this.statusNow;
  }

  /** The id of the last event received: what a reconnection resumes after. */
  get lastEventId(): string | undefined {
    return this.lastId;
  }

  /** Stops for good: no more events, no reconnection. */
  close(): void {
    this.stop();
    globalThis.removeEventListener?.("online", this.onOnline);
    this.setStatus("closed");
  }

  private readonly onOnline = (): void => {
    // Back online: try now rather than at the end of a long backoff.
    if (this.statusNow === "reconnecting" && this.socket === undefined) {
      clearTimeout(this.reconnectTimer);
      this.open();
    }
  };

  private open(): void {
    this.reconnectTimer = undefined;
    const params = new URLSearchParams();
    if (this.options.playerId !== undefined) params.set("player_id", this.options.playerId);
    if (this.lastId !== undefined) params.set("last_event_id", this.lastId);
    const query = params.toString();
    const socket = new this.WebSocketImpl(query ? `${this.url}?${query}` : this.url);
    this.socket = socket;
    this.connections++;
    this.armWatchdog();
    socket.onmessage = (message: MessageEvent) => {
      this.armWatchdog();
      if (typeof message.data === "string") this.receive(message.data);
    };
    socket.onclose = (event: CloseEvent) => this.onClose(event.code, event.reason);
    // An error is always followed by a close: the close decides what happens next.
    socket.onerror = () => undefined;
  }

  private receive(data: string): void {
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (typeof message !== "object" || message === null) return;
    const { type, id } = message as { type?: unknown; id?: unknown };
    if (type === "subscribed") {
      this.retries = 0;
      this.setStatus("live");
      return;
    }
    if (type === "events_dropped") {
      this.options.onDropped?.(message as EventsDropped);
      return;
    }
    if (typeof id === "string") {
      if (this.lastId !== undefined && compareEventIds(id, this.lastId) <= 0) return; // seen
      this.lastId = id; // before the callback: an exception there must not repeat it
    }
    if (typeof type === "string" && Object.hasOwn(KNOWN_EVENTS, type)) {
      this.options.onEvent(message as LeaderboardEvent);
    }
  }

  private onClose(code: number, reason: string): void {
    this.stop();
    if (FATAL_CLOSES.has(code)) {
      globalThis.removeEventListener?.("online", this.onOnline);
      this.setStatus("closed");
      this.options.onError?.(new SubscriptionError(code, reason));
      return;
    }
    this.retries++;
    this.setStatus("reconnecting");
    this.reconnectTimer = setTimeout(() => this.open(), backoffMs(this.reconnect, this.retries));
  }

  private armWatchdog(): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => {
      // Silent for three heartbeats: the connection is dead without having said so.
      this.onClose(1006, "no heartbeat");
    }, this.heartbeatTimeoutMs);
  }

  /** Lets go of the socket and timers (the socket's own late events are ignored). */
  private stop(): void {
    clearTimeout(this.watchdog);
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket !== undefined) {
      socket.onmessage = socket.onclose = socket.onerror = null;
      if (socket.readyState === socket.CONNECTING || socket.readyState === socket.OPEN) {
        socket.close();
      }
    }
  }

  private setStatus(status: SubscriptionStatus): void {
    if (status === this.statusNow) return;
    this.statusNow = status;
    this.options.onStatus?.(status);
  }
}
