export {
  type AroundQuery,
  type Board,
  type ClientOptions,
  type DeviceAuthResponse,
  type Entry,
  type EntryQuery,
  type HistogramPage,
  type HeldResult,
  type HistogramQuery,
  type History,
  type HistoryQuery,
  LeaderboardClient,
  type Page,
  type PlayerEntry,
  type PlayersQuery,
  type Profile,
  type SubmitOptions,
  type SubmitResult,
  type Submitted,
  type TopQuery,
} from "./client.js";
export {
  type ErrorBody,
  LeaderboardError,
  NetworkError,
  RateLimitedError,
  type RateLimitInfo,
  SubscriptionError,
  UnavailableError,
} from "./errors.js";
export type { components, operations, paths } from "./generated/openapi.js";
export { compareEventIds, newIdempotencyKey } from "./ids.js";
export { backoffMs, DEFAULT_RETRY, type RetryPolicy } from "./retry.js";
export {
  type EntryRemoved,
  type EntryRestored,
  EventSubscription,
  type EventsDropped,
  type LeaderboardEvent,
  type Overtaken,
  type RankChanged,
  type SubscribeOptions,
  type SubscriptionStatus,
  type WebSocketConstructor,
} from "./subscription.js";
