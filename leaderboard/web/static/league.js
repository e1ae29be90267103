// The live league page (league.html): one cohort of the current season, with its zones.
// Plain JS over the public API and the league's SSE stream. A file of its own, not an
// inline <script>, so the page's Content-Security-Policy allows scripts from this
// service only; drawn with DOM calls (no innerHTML with data, no style attributes).
"use strict";
const LEAGUE = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
const api = (path) => `/v1/leagues/${encodeURIComponent(LEAGUE)}${path}`;
const $ = (id) => document.getElementById(id);
const REFRESH_EVERY_MS = 5000; // scores change without zone events: re-read this often
const REFRESH_DEBOUNCE_MS = 150;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

let league = null;
const view = { tier: 1, number: 1, player: null };
let latest = 0;

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

const num = (n) => Number(n).toLocaleString("en");
const cohortId = () => `${league.season}-${view.tier}-${view.number}`;

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

function showError(error) {
  $("error").textContent = error ? error.message : "";
  $("error").hidden = !error;
}

function drawHeader() {
  $("title").textContent = league.name;
  document.title = `${league.name} · League`;
  $("season").textContent = `Season ${num(league.season)}`;
  const tiers = $("tiers");
  tiers.replaceChildren();
  league.tiers.forEach((tier, i) => {
    const button = el("button", null, tier.name);
    button.type = "button";
    button.setAttribute("aria-pressed", String(view.tier === i + 1));
    button.addEventListener("click", () => show(i + 1, 1, null));
    tiers.append(button);
  });
  tiers.hidden = false;
}

function countdown() {
  if (!league) return;
  const left = Math.max(0, Date.parse(league.season_ends_at) - Date.now());
  const days = Math.floor(left / 86400000);
  const hours = Math.floor((left % 86400000) / 3600000);
  const minutes = Math.floor((left % 3600000) / 60000);
  $("countdown").textContent = left
    ? `ends in ${days ? `${days} d ` : ""}${hours} h ${minutes} min`
    : "ending now";
}

function drawCohort(page) {
  const body = $("cohort");
  body.replaceChildren();
  const entries = page ? page.entries : [];
  entries.forEach((entry, i) => {
    const row = el("tr", entry.zone);
    row.dataset.player = entry.player_id;
    if (entry.player_id === view.player) row.classList.add("me");
    const next = entries[i + 1];
    if (entry.zone === "promote" && next && next.zone !== "promote") row.classList.add("edge-below");
    const before = entries[i - 1];
    if (entry.zone === "demote" && before && before.zone !== "demote") row.classList.add("edge-above");
    const zone = el("td", "zone-cell");
    zone.append(el("span", `zone ${entry.zone}`, entry.zone));
    row.append(
      el("td", "rank", String(entry.rank)),
      el("td", "name", entry.display_name || entry.player_id.slice(0, 8)),
      zone,
      el("td", "score", num(entry.score)),
    );
    body.append(row);
  });
  const tier = league.tiers[view.tier - 1].name;
  $("heading").textContent = `${tier} · cohort ${view.number}`;
  $("members").textContent = page ? `${num(entries.length)} of ${num(league.cohort_size)} players` : "";
  $("which").textContent = page ? page.cohort : "";
  $("cohort-empty").hidden = Boolean(page && entries.length);
  $("prev").disabled = view.number <= 1;
}

async function refresh() {
  const ask = ++latest;
  try {
    const page = await getJson(api(`/cohorts/${cohortId()}`));
    if (ask !== latest) return;
    drawCohort(page);
    $("next").disabled = page.entries.length < league.cohort_size;
    showError(null);
  } catch (error) {
    if (ask !== latest) return;
    if (error.status === 404) {
      drawCohort(null);
      $("next").disabled = true;
      showError(null);
    } else {
      showError(error);
    }
  }
}

function show(tier, number, player) {
  view.tier = tier;
  view.number = number;
  view.player = player;
  drawHeader();
  refresh();
}

let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, REFRESH_DEBOUNCE_MS);
}

async function reloadLeague() {
  league = await getJson(api(""));
  drawHeader();
  countdown();
}

function listen() {
  const events = new EventSource(api("/events"));
  events.addEventListener("open", () => setStatus("live", "live"));
  events.addEventListener("error", () => setStatus("reconnecting…", "gone"));
  events.addEventListener("zone_changed", (message) => {
    const event = JSON.parse(message.data);
    if (league && event.cohort === cohortId()) refreshSoon();
  });
  events.addEventListener("season_ended", async () => {
    // A new season: its cohorts start empty; show the same tier's first one.
    await reloadLeague();
    view.number = 1;
    refreshSoon();
  });
}

async function findPlayer(text) {
  const message = $("search-message");
  message.hidden = true;
  const id = text.trim();
  if (!UUID.test(id)) {
    message.textContent = "Enter a player id.";
    message.hidden = false;
    return;
  }
  try {
    const standing = await getJson(api(`/players/${encodeURIComponent(id)}`));
    const [, tier, number] = standing.cohort.split("-").map(Number);
    show(tier, number, standing.player_id);
  } catch (error) {
    message.textContent = error.status === 404
      ? "That player has not played this season."
      : error.message;
    message.hidden = false;
  }
}

async function start() {
  try {
    await reloadLeague();
  } catch (error) {
    if (error.status === 404) {
      $("missing-id").textContent = LEAGUE;
      $("missing").hidden = false;
      setStatus("no such league", "gone");
      return;
    }
    throw error;
  }
  $("league").hidden = false;
  $("prev").addEventListener("click", () => show(view.tier, view.number - 1, view.player));
  $("next").addEventListener("click", () => show(view.tier, view.number + 1, view.player));
  $("search").addEventListener("submit", (event) => {
    event.preventDefault();
    findPlayer($("player").value);
  });
  const wanted = new URLSearchParams(location.search).get("player");
  if (wanted) {
    $("player").value = wanted;
    await findPlayer(wanted);
  } else {
    show(1, 1, null);
  }
  listen();
  setInterval(refresh, REFRESH_EVERY_MS);
  setInterval(countdown, 30000);
}

start();
