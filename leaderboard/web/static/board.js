// The live leaderboard page (board.html): plain JS over the public API and the WebSocket.
// A file of its own, not an inline <script>, so the page's Content-Security-Policy can
// allow scripts from this service only. Everything is drawn with DOM and SVG calls (no
// innerHTML with data, no style attributes: the CSP forbids inline styles).
"use strict";
const BOARD = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
const api = (path) => `/v1/leaderboards/${encodeURIComponent(BOARD)}${path}`;
const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const PAGE_SIZE = 10;
const MATCHES = 10; // name search: at most this many matches
const SEARCH_DEBOUNCE_MS = 250;
const REFRESH_DEBOUNCE_MS = 150; // events arrive in bursts: one re-read of the table per burst
const HISTOGRAM_EVERY_MS = 2000; // the histogram is re-read at most this often
const HISTOGRAM_BUCKETS = 20;
const MARK_MS = 6000; // how long ▲/▼/new stays beside a row
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const PERIOD_NAMES = {
  daily: ["Today", "Yesterday"],
  weekly: ["This week", "Last week"],
  monthly: ["This month", "Last month"],
};

let board = null;
// What is shown: the period ("current", "previous" or a day YYYY-MM-DD) and the page.
// country: the players of one country only (boards with the country segment), or null.
const view = { period: "current", offset: 0, country: null };
let currentStart = null; // the current period's first day, as the API says it
let watched = null; // the chosen player's id
let watchedEntry = null; // and their entry in the period shown
let chosenText = null; // the search box's text when they were chosen (their name)
let lastRanks = new Map(); // ranks of the rows shown, to flash the ones that moved
const marks = new Map(); // player id -> {from, to, until}: movement seen in events
let socketOpen = false;
// Each read has a counter: only the answer to the latest request of its kind is drawn.
const latest = { top: 0, histogram: 0, entry: 0, search: 0 };

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
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

// The query string of a read: the period shown (nothing for the current one) and `params`.
function query(params = {}) {
  const q = new URLSearchParams(params);
  if (view.period !== "current") q.set("period", view.period);
  if (view.country) q.set("country", view.country);
  const text = q.toString();
  return text ? `?${text}` : "";
}

const num = (n) => Number(n).toLocaleString("en");
const nameOf = (e) => e.display_name || e.player_id.slice(0, 8);
const plural = (n, one, many) => `${num(n)} ${n === 1 ? one : many}`;
const isLive = () => view.period === "current";
const emptyText = () => (isLive() ? "No scores yet." : "No scores in this period.");

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function setStatus(text, state) {
  $("live").textContent = text;
  $("dot").className = `dot ${state || ""}`.trim();
}

function showStatus() {
  if (!isLive()) setStatus("past period: not live", "paused");
  else if (socketOpen) setStatus("live", "live");
}

function showError(error) {
  $("error").textContent = error ? error.message : "";
  $("error").hidden = !error;
}

// ---- the table, a page at a time -------------------------------------------------

function moveMark(playerId) {
  const mark = marks.get(playerId);
  if (!mark || mark.until <= Date.now()) return null;
  if (mark.restored) return { cls: "new", text: "back", label: "entry restored" };
  if (mark.from === null) return { cls: "new", text: "new", label: "new entry" };
  const by = mark.from - mark.to;
  if (by > 0) return { cls: "up", text: `▲${by}`, label: `up ${plural(by, "place", "places")}` };
  if (by < 0) return { cls: "down", text: `▼${-by}`, label: `down ${plural(-by, "place", "places")}` };
  return null;
}

function paintMove(td) {
  const mark = moveMark(td.parentElement.dataset.player);
  td.replaceChildren();
  if (!mark) return;
  const span = el("span", `mark ${mark.cls}`, mark.text);
  span.title = mark.label;
  span.setAttribute("aria-label", mark.label);
  td.append(span);
}

let markTimer = null;
// Take off the marks whose time is up, and come back when the next one's is.
function expireMarks() {
  clearTimeout(markTimer);
  const now = Date.now();
  for (const [player, mark] of marks) if (mark.until <= now) marks.delete(player);
  for (const td of $("top").querySelectorAll("td.move")) paintMove(td);
  if (marks.size) {
    const next = Math.min(...[...marks.values()].map((m) => m.until));
    markTimer = setTimeout(expireMarks, Math.max(50, next - now + 20));
  }
}

function mark(playerId, from, to, restored = false) {
  const before = marks.get(playerId);
  const start = before && before.until > Date.now() ? before.from : from;
  marks.set(playerId, { from: start, to, restored, until: Date.now() + MARK_MS });
}

function row(e) {
  const tr = el("tr");
  tr.dataset.player = e.player_id;
  const name = el("td", "name", nameOf(e));
  name.title = nameOf(e);
  tr.append(el("td", "rank", num(e.rank)), el("td", "move"), name, el("td", "score", num(e.score)));
  if (e.player_id === watched) tr.classList.add("me");
  const before = lastRanks.get(e.player_id);
  if (before !== undefined && before !== e.rank) tr.classList.add("moved");
  paintMove(tr.children[1]);
  return tr;
}

async function refreshTop() {
  const ticket = ++latest.top;
  const offset = view.offset;
  const page = await getJson(api(`/top${query({ limit: PAGE_SIZE, offset })}`));
  if (ticket !== latest.top) return false;
  if (!page.entries.length && page.total > 0 && offset > 0) {
    // The page emptied (entries removed): show the last page there is.
    view.offset = Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE;
    return refreshTop();
  }
  $("top").replaceChildren(...page.entries.map(row));
  lastRanks = new Map(page.entries.map((e) => [e.player_id, e.rank]));
  $("top-empty").textContent = emptyText();
  $("top-empty").hidden = page.entries.length > 0;
  $("total").textContent = `· ${plural(page.total, "player", "players")}`;
  const last = offset + page.entries.length;
  $("heading").textContent = offset === 0 ? "Top 10" : `Ranks ${num(offset + 1)}–${num(last)}`;
  $("range").textContent = page.entries.length
    ? `Ranks ${num(offset + 1)}-${num(last)} of ${num(page.total)}` : "";
  $("pager").hidden = page.total <= PAGE_SIZE && offset === 0;
  $("first").disabled = $("prev").disabled = offset === 0;
  $("next").disabled = last >= page.total;
  if (isLive()) currentStart = page.period;
  showPeriod(page.period);
  return true;
}

function goTo(offset) {
  view.offset = Math.max(0, offset);
  lastRanks = new Map();
  refreshTop().then(() => showError(null), showError);
}

// ---- the period shown, and when it ends ------------------------------------------

function periodEnd(start) {
  const d = new Date(`${start}T00:00:00Z`);
  if (board.reset === "daily") d.setUTCDate(d.getUTCDate() + 1);
  else if (board.reset === "weekly") d.setUTCDate(d.getUTCDate() + 7);
  else if (board.reset === "monthly") d.setUTCMonth(d.getUTCMonth() + 1);
  return d;
}

let shownPeriod = null;
function showPeriod(period) {
  shownPeriod = period;
  $("period").textContent = period ? `Period from ${period} (UTC)` : "All time";
  tick();
}

function tick() {
  const clock = $("countdown");
  if (!board || board.reset === "never") { clock.textContent = "Never resets"; return; }
  if (!shownPeriod) { clock.textContent = ""; return; }
  const end = periodEnd(shownPeriod);
  if (shownPeriod !== currentStart) {
    clock.textContent = `Ended ${end.toISOString().slice(0, 10)} 00:00 UTC`;
    return;
  }
  const s = Math.floor(Math.max(0, end - Date.now()) / 1000);
  if (s === 0 && isLive()) scheduleRefresh(); // a new period has begun: read it
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  clock.textContent = `Resets in ${d}d ${h}h ${m}m ${s % 60}s`;
}

function setPeriod(period) {
  view.period = period;
  view.offset = 0;
  lastRanks = new Map();
  marks.clear();
  for (const button of $("periods").querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.period === period));
  }
  if (period === "current" || period === "previous") $("period-date").value = "";
  showStatus();
  refreshAll(true);
}

// The country filter: two letters show that country's players, ranked among themselves.
function setCountry(text) {
  const country = /^[a-z]{2}$/i.test(text) ? text.toUpperCase() : null;
  if (country === view.country) return;
  view.country = country;
  view.offset = 0;
  lastRanks = new Map();
  marks.clear();
  $("country-shown").textContent = country ? `ranked within ${country}` : "";
  refreshAll(true);
}

function setUpCountries() {
  if (!(board.segments || []).includes("country")) return;
  $("country").addEventListener("input", () => {
    const text = $("country").value.trim();
    if (text === "" || text.length === 2) setCountry(text);
  });
  $("countries").addEventListener("submit", (event) => event.preventDefault());
  $("countries").hidden = false;
}

// ---- the histogram ---------------------------------------------------------------

let histogramAt = 0;
let histogramTimer = null;
// Events can come by the hundred a second: the histogram follows at most every 2 s.
function scheduleHistogram() {
  if (histogramTimer) return;
  const wait = Math.max(0, histogramAt + HISTOGRAM_EVERY_MS - Date.now());
  histogramTimer = setTimeout(() => {
    histogramTimer = null;
    refreshHistogram().catch(() => {});
  }, wait);
}

async function refreshHistogram() {
  histogramAt = Date.now();
  const ticket = ++latest.histogram;
  const shape = await getJson(api(`/histogram${query({ buckets: HISTOGRAM_BUCKETS })}`));
  if (ticket !== latest.histogram) return;
  drawHistogram(shape);
}

let lastShape = null;
function drawHistogram(shape) {
  lastShape = shape;
  const box = $("histogram");
  const buckets = shape.buckets;
  $("histogram-total").textContent = `· ${plural(shape.total, "score", "scores")}`;
  $("histogram-empty").textContent = emptyText();
  $("histogram-empty").hidden = buckets.length > 0;
  $("histogram-axis").hidden = buckets.length === 0;
  if (!buckets.length) { box.replaceChildren(); return; }
  const width = buckets.length * 10, height = 100;
  const peak = Math.max(...buckets.map((b) => b.count));
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  const low = buckets[0].from, high = buckets[buckets.length - 1].to;
  svg.setAttribute("aria-label",
    `${plural(shape.total, "score", "scores")} from ${num(low)} to ${num(high)}, at most ${num(peak)} in one range`);
  const mine = watchedEntry ? watchedEntry.score : null;
  buckets.forEach((b, i) => {
    const bar = document.createElementNS(SVG, "rect");
    const h = b.count ? Math.max(1.5, (b.count / peak) * (height - 4)) : 0;
    bar.setAttribute("x", String(i * 10 + 1));
    bar.setAttribute("width", "8");
    bar.setAttribute("y", String(height - h));
    bar.setAttribute("height", String(h));
    bar.setAttribute("class", mine !== null && mine >= b.from && mine <= b.to ? "bar mine" : "bar");
    bar.dataset.from = b.from;
    bar.dataset.to = b.to;
    bar.dataset.count = b.count;
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${num(b.from)}–${num(b.to)}: ${plural(b.count, "player", "players")}`;
    bar.append(title);
    svg.append(bar);
  });
  const base = document.createElementNS(SVG, "rect");
  base.setAttribute("class", "baseline");
  base.setAttribute("x", "0");
  base.setAttribute("y", String(height - 0.5));
  base.setAttribute("width", String(width));
  base.setAttribute("height", "0.5");
  svg.append(base);
  box.replaceChildren(svg);
  $("histogram-low").textContent = num(low);
  $("histogram-high").textContent = num(high);
}

// ---- finding a player --------------------------------------------------------------

function searchMessage(text) {
  $("search-message").textContent = text || "";
  $("search-message").hidden = !text;
}

function hideMatches() {
  $("matches").hidden = true;
  $("matches").replaceChildren();
}

async function searchNames(prefix) {
  const ticket = ++latest.search;
  const page = await getJson(api(`/players${query({ name: prefix, limit: MATCHES })}`));
  if (ticket !== latest.search) return;
  const items = page.entries.slice(0, MATCHES).map((e) => {
    const button = el("button", "match");
    button.type = "button";
    button.dataset.player = e.player_id;
    button.append(el("span", "rank", `#${num(e.rank)}`), el("span", "name", nameOf(e)),
      el("span", "score", num(e.score)));
    button.addEventListener("click", () => choose(e.player_id, nameOf(e)));
    const li = el("li");
    li.append(button);
    return li;
  });
  $("matches").replaceChildren(...items);
  $("matches").hidden = items.length === 0;
  const where = isLive() ? "" : " in this period";
  searchMessage(items.length ? "" : `No player${where} has a name starting with “${prefix}”.`);
}

let searchTimer = null;
function onSearchInput() {
  clearTimeout(searchTimer);
  const text = $("player").value.trim();
  if (!text) { latest.search++; hideMatches(); searchMessage(""); return; }
  searchTimer = setTimeout(() => {
    if (UUID.test(text)) { hideMatches(); choose(text); } else searchNames(text).catch((e) => searchMessage(e.message));
  }, SEARCH_DEBOUNCE_MS);
}

function onSearchSubmit(event) {
  event.preventDefault();
  clearTimeout(searchTimer);
  const text = $("player").value.trim();
  if (!text) return;
  if (UUID.test(text)) { hideMatches(); choose(text); return; }
  const first = $("matches").querySelector("button.match");
  if (first && !$("matches").hidden) first.click();
  else searchNames(text).catch((e) => searchMessage(e.message));
}

// Arrow keys move between the input and the matches; Escape closes them.
function onSearchKeys(event) {
  const buttons = [...$("matches").querySelectorAll("button.match")];
  const at = buttons.indexOf(document.activeElement);
  if (event.key === "ArrowDown" && buttons.length) {
    event.preventDefault();
    buttons[Math.min(at + 1, buttons.length - 1)].focus();
  } else if (event.key === "ArrowUp" && at >= 0) {
    event.preventDefault();
    (at === 0 ? $("player") : buttons[at - 1]).focus();
  } else if (event.key === "Escape") {
    hideMatches();
    $("player").focus();
  }
}

// A player chosen (from the matches or by id): their entry, and their page of the table.
async function choose(playerId, name) {
  watched = playerId.toLowerCase();
  hideMatches();
  if (name) $("player").value = name;
  chosenText = $("player").value.trim();
  const entry = await refreshEntry();
  refreshBest().catch(() => {});
  if (!entry) return;
  // Their place in the order (under shared ranks a rank may be far from it).
  view.offset = Math.floor(((entry.position || entry.rank) - 1) / PAGE_SIZE) * PAGE_SIZE;
  lastRanks = new Map();
  if (await refreshTop().catch(showError)) {
    const mine = $("top").querySelector("tr.me");
    if (mine) mine.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }
  if (lastShape) drawHistogram(lastShape);
}

const sharedRanks = () => board.ranks === "competition" || board.ranks === "dense";
const RANK_NOTES = {
  competition: "Tied scores share a rank (1, 2, 2, 4)",
  dense: "Tied scores share a rank (1, 2, 2, 3)",
};

// The chosen player's best rank of any period (resetting boards: their history).
async function refreshBest() {
  $("entry-best").hidden = true;
  if (!watched || board.reset === "never") return;
  const player = watched;
  const history = await getJson(api(`/players/${encodeURIComponent(player)}/history?limit=1`));
  if (player !== watched || !history.best) return;
  const when = history.best.period === currentStart ? "this period"
    : `the period from ${history.best.period}`;
  $("entry-best").textContent = `Best: #${num(history.best.rank)}, in ${when}`;
  $("entry-best").hidden = false;
}

async function refreshEntry() {
  if (!watched) return null;
  const ticket = ++latest.entry;
  let entry = null;
  try {
    entry = await getJson(api(`/players/${encodeURIComponent(watched)}${query()}`));
  } catch (error) {
    if (ticket !== latest.entry) return null;
    watchedEntry = null;
    $("entry").hidden = true;
    const where = isLive() ? "on this board" : "in this period";
    searchMessage(error.status === 404 ? `That player has no entry ${where}.` : error.message);
    return null;
  }
  if (ticket !== latest.entry) return null;
  watched = entry.player_id;
  watchedEntry = entry;
  searchMessage("");
  $("entry-name").textContent = nameOf(entry);
  $("entry-rank").textContent = `${num(entry.rank)} of ${num(entry.total)}`;
  $("entry-score").textContent = num(entry.score);
  const pct = Math.round(entry.percentile * 10) / 10;
  $("entry-percentile").textContent = `${pct}%`;
  $("entry-percentile").title = `ahead of ${pct}% of the other players`;
  const points = entry.to_next === null ? "" : plural(entry.to_next, "point", "points");
  // Under shared ranks a tie shares the rank: the next rank takes equalling the score above.
  const goal = sharedRanks() ? "to tie the next score up" : "to pass the next player";
  $("entry-next").textContent = entry.to_next === null ? "First place: nobody left to pass."
    : board.order === "asc" ? `${points} lower ${goal}` : `${points} ${goal}`;
  $("entry").hidden = false;
  return entry;
}

// ---- keeping up with events ---------------------------------------------------------

let refreshTimer = null;
function scheduleRefresh() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    refreshAll(false);
  }, REFRESH_DEBOUNCE_MS);
}

// Re-read what is shown. `fresh`: the period changed, so the histogram is read at once
// and the search is asked again; otherwise (events) the histogram waits its turn.
function refreshAll(fresh) {
  const reads = [refreshTop(), refreshEntry().then(() => lastShape && drawHistogram(lastShape))];
  if (fresh) reads.push(refreshHistogram());
  else scheduleHistogram();
  // The search is asked again, unless the text is what a player was chosen by.
  const text = $("player").value.trim();
  const asked = text && !UUID.test(text) && text !== chosenText;
  if (asked && (fresh || !$("matches").hidden)) reads.push(searchNames(text));
  Promise.all(reads).then(() => showError(null), fresh ? showError : () => {});
}

function onEvent(event) {
  if (event.type === "subscribed") {
    socketOpen = true;
    showStatus();
    if (isLive()) scheduleRefresh();
    return;
  }
  if (!isLive()) return; // a past period does not change
  if (view.country) { // events number the whole board: the country's table is read again
    scheduleRefresh();
    return;
  }
  if (event.type === "rank_changed") {
    if (event.previous_rank !== event.rank) mark(event.player_id, event.previous_rank, event.rank);
  } else if (event.type === "overtaken") {
    mark(event.player_id, event.previous_rank, event.rank);
  } else if (event.type === "entry_removed") {
    marks.delete(event.player_id);
    const gone = $("top").querySelector(`tr[data-player="${CSS.escape(event.player_id)}"]`);
    if (gone) gone.remove();
  } else if (event.type === "entry_restored") {
    // An unban: the entry is back where it ranked (the refresh below shows it).
    mark(event.player_id, null, event.rank, true);
  } else if (event.type !== "events_dropped") {
    return; // heartbeats, and types this page does not know
  }
  expireMarks();
  scheduleRefresh();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${api("/ws")}`);
  socket.onmessage = (message) => onEvent(JSON.parse(message.data));
  socket.onclose = () => {
    socketOpen = false;
    setStatus("reconnecting…");
    setTimeout(connect, 1000);
  };
}

// ---- start ---------------------------------------------------------------------------

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

function setUpPeriods() {
  if (board.reset === "never") return;
  const [current, previous] = PERIOD_NAMES[board.reset];
  $("period-current").textContent = current;
  $("period-previous").textContent = previous;
  $("period-date").max = new Date().toISOString().slice(0, 10);
  for (const button of $("periods").querySelectorAll("button")) {
    button.addEventListener("click", () => setPeriod(button.dataset.period));
  }
  $("period-date").addEventListener("change", () => {
    const day = $("period-date").value;
    if (!day) { setPeriod("current"); return; }
    // A day of the current period (or after it) is the current period, live.
    if (currentStart && day >= currentStart) {
      setPeriod("current");
      $("period-date").value = day;
    } else {
      setPeriod(day);
    }
  });
  $("periods").hidden = false;
}

async function main() {
  board = await loadBoard();
  if (board === null) { showMissing(); return; }
  setStatus("connecting…");
  document.title = `${board.name} · Leaderboard`;
  $("title").textContent = board.name;
  if (RANK_NOTES[board.ranks]) {
    $("ranks").textContent = RANK_NOTES[board.ranks];
    $("ranks").hidden = false;
  }
  $("board").hidden = false;
  await refreshTop().catch(showError); // read again once the WebSocket is up
  setUpPeriods();
  setUpCountries();
  setInterval(tick, 1000);
  refreshHistogram().catch(() => {});
  $("first").addEventListener("click", () => goTo(0));
  $("prev").addEventListener("click", () => goTo(view.offset - PAGE_SIZE));
  $("next").addEventListener("click", () => goTo(view.offset + PAGE_SIZE));
  $("search").addEventListener("submit", onSearchSubmit);
  $("player").addEventListener("input", onSearchInput);
  $("finder").addEventListener("keydown", onSearchKeys);
  connect();
}
main();
