/**
 * A tiny browser game on the client: sign in with a device id kept in localStorage, play
 * rounds (each a submission), show the top 10, and follow the board's live events,
 * resuming after the last one seen (kept in localStorage too, so a reload resumes).
 * `?api=` is the service's URL and `?board=` the board; the page may be served from
 * any origin the service lists in LEADERBOARD_CORS_ORIGINS.
 */
import * as lib from "../src/index.js";
import {
  LeaderboardClient,
  type LeaderboardEvent,
  type Page,
  type SubscriptionStatus,
} from "../src/index.js";

const params = new URLSearchParams(location.search);
const api = params.get("api") ?? location.origin;
const boardId = params.get("board") ?? "demo";
const name = params.get("name") ?? "Player";

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`#${id} is missing`);
  return found;
}

function deviceId(): string {
  const kept = localStorage.getItem("device-id");
  if (kept !== null) return kept;
  const made = `web-${lib.newIdempotencyKey()}`;
  localStorage.setItem("device-id", made);
  return made;
}

const client = new LeaderboardClient({ baseUrl: api });
const game = {
  lib,
  client,
  boardId,
  playerId: "",
  /** Every event received, in order. */
  events: [] as LeaderboardEvent[],
  /** Every status the subscription went through. */
  statuses: [] as SubscriptionStatus[],
  top: null as Page | null,
  subscription: null as lib.EventSubscription | null,
  /** One round: a score submitted (retried safely), then the top 10 read again. */
  async play(score: number): Promise<lib.Submitted> {
    const submitted = await client.submitScore(boardId, score);
    element("result").textContent = `rank ${submitted.result.rank}`;
    await game.refresh();
    return submitted;
  },
  async refresh(): Promise<Page> {
    const top = await client.top(boardId, { limit: 10 });
    game.top = top;
    element("top").replaceChildren(
      ...top.entries.map((entry) => {
        const item = document.createElement("li");
        item.textContent = `${entry.display_name ?? entry.player_id} ${entry.score}`;
        item.className = entry.player_id === game.playerId ? "me" : "";
        return item;
      }),
    );
    return top;
  },
};
declare global {
  interface Window {
    game: typeof game;
  }
}
window.game = game;

const signedIn = await client.signInDevice(deviceId(), name);
game.playerId = signedIn.player_id;
element("player").textContent = name;
const resumeFrom = localStorage.getItem(`last-event:${boardId}`);
game.subscription = client.subscribe(boardId, {
  ...(resumeFrom === null ? {} : { lastEventId: resumeFrom }),
  onEvent(event) {
    game.events.push(event);
    if (event.id !== null) localStorage.setItem(`last-event:${boardId}`, event.id);
    const item = document.createElement("li");
    item.textContent =
      event.type === "rank_changed" ? `${event.player_id} → #${event.rank}` : event.type;
    element("events").prepend(item);
  },
  onStatus(status) {
    game.statuses.push(status);
    element("status").textContent = status;
  },
  onDropped() {
    void game.refresh(); // some events were missed: read the board again
  },
});
await game.refresh();
(element("play") as HTMLButtonElement).disabled = false;
element("play").addEventListener("click", () => void game.play(Math.floor(Math.random() * 1000)));
