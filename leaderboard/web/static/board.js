// The live leaderboard page (board.html): plain JS over the public API and the WebSocket.
// A file of its own, not an inline <script>, so the page's Content-Security-Policy can
// allow scripts from this service only.
"use strict";
const BOARD = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
const api = (path) => `/v1/leaderboards/${encodeURIComponent(BOARD)}${path}`;
const $ = (id) => document.getElementById(id);
let board = null;
let lastRanks = new Map();
let watched = null;

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function render(tbody, entries, highlight) {
  const rows = entries.map((e) => {
    const tr = document.createElement("tr");
    tr.dataset.player = e.player_id;
    tr.append(cell(e.rank, "rank"), cell(e.display_name || e.player_id.slice(0, 8)), cell(e.score.toLocaleString("en"), "score"));
    if (e.player_id === highlight) tr.classList.add("me");
    return tr;
  });
  tbody.replaceChildren(...rows);
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
    throw new ApiError(response.status, detail);
  }
  return response.json();
}

function setStatus(text, state) {
  $("live").textContent = text;
  $("dot").className = `dot ${state || ""}`.trim();
}

async function refreshTop() {
  const page = await getJson(api("/top?limit=10"));
  const tbody = $("top");
  render(tbody, page.entries, watched);
  for (const tr of tbody.children) {
    const before = lastRanks.get(tr.dataset.player);
    const now = Number(tr.firstChild.textContent);
    if (before !== undefined && before !== now) tr.classList.add("moved");
  }
  lastRanks = new Map(page.entries.map((e) => [e.player_id, e.rank]));
  $("top-empty").hidden = page.entries.length > 0;
  const players = page.total === 1 ? "player" : "players";
  $("total").textContent = `· ${page.total.toLocaleString("en")} ${players}`;
}

async function refreshAround() {
  if (!watched) return;
  const message = $("around-message");
  const table = $("around-table");
  try {
    const page = await getJson(api(`/players/${encodeURIComponent(watched)}/around?radius=3`));
    render($("around"), page.entries, watched);
    const me = page.entries.find((e) => e.player_id === watched);
    message.textContent = me ? `Rank ${me.rank} of ${page.total}` : "";
    message.hidden = !me;
    table.hidden = false;
  } catch (error) {
    message.textContent = error.message;
    message.hidden = false;
    table.hidden = true;
  }
}

function periodEnd(start, reset) {
  const d = new Date(`${start}T00:00:00Z`);
  if (reset === "daily") d.setUTCDate(d.getUTCDate() + 1);
  else if (reset === "weekly") d.setUTCDate(d.getUTCDate() + 7);
  else if (reset === "monthly") d.setUTCMonth(d.getUTCMonth() + 1);
  return d;
}

function tick(period) {
  const el = $("countdown");
  if (!period || board.reset === "never") { el.textContent = "Never resets"; return; }
  const left = Math.max(0, periodEnd(period, board.reset) - Date.now());
  const s = Math.floor(left / 1000);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  el.textContent = `Resets in ${d}d ${h}h ${m}m ${s % 60}s`;
}

let pending = null;
function scheduleRefresh() {
  if (pending) return;
  pending = setTimeout(async () => {
    pending = null;
    await Promise.all([refreshTop(), refreshAround()]).catch(() => {});
  }, 150);
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${api("/ws")}`);
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "subscribed") { setStatus("live", "live"); scheduleRefresh(); }
    else if (event.type === "rank_changed" || event.type === "events_dropped") scheduleRefresh();
  };
  socket.onclose = () => {
    setStatus("reconnecting…");
    setTimeout(connect, 1000);
  };
}

// The board does not exist: say so, instead of a status that connects forever.
function showMissing() {
  document.title = "No such leaderboard";
  $("title").textContent = `No leaderboard ${BOARD}`;
  setStatus("not found", "gone");
  $("period").hidden = true;
  $("countdown").hidden = true;
  $("missing-id").textContent = BOARD;
  $("missing").hidden = false;
  $("board").hidden = true;
}

async function loadBoard() {
  for (;;) {
    try {
      return await getJson(`/v1/leaderboards/${encodeURIComponent(BOARD)}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      // The service or a dependency is down for now: say why, and try again.
      setStatus(`cannot load the board (${error.message}); retrying…`);
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
  }
}

async function main() {
  board = await loadBoard();
  if (board === null) { showMissing(); return; }
  setStatus("connecting…");
  document.title = `${board.name} · Leaderboard`;
  $("title").textContent = board.name;
  $("board").hidden = false;
  const page = await getJson(api("/top?limit=10"));
  $("period").textContent = page.period ? `Period from ${page.period} (UTC)` : "All time";
  tick(page.period);
  setInterval(() => tick(page.period), 1000);
  await refreshTop();
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    watched = $("player").value.trim();
    refreshAround();
    refreshTop();
  });
  connect();
}
main();
