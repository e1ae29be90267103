// The live page's admin view (board.html, "Review queue"): the board's pending submissions
// with approve and reject buttons. The token the admin types is kept in this closure only,
// never in storage or a cookie: reloading or leaving the page forgets it.
"use strict";
(() => {
  const BOARD = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop());
  const $ = (id) => document.getElementById(id);
  let token = null;

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function say(text) {
    $("review-message").textContent = text;
    $("review-message").hidden = !text;
  }

  async function call(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: {
        Accept: "application/json",
        Authorization: `Bearer ${token}`,
        ...(body ? { "Content-Type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    let answer = null;
    try { answer = await response.json(); } catch (_) { /* no body */ }
    return { status: response.status, answer };
  }

  function item(s) {
    const li = el("li", "pending");
    li.dataset.id = String(s.id);
    const head = el("div", "what");
    head.append(
      el("span", "sid", `#${s.id}`),
      el("span", "score", Number(s.score).toLocaleString("en")),
      el("span", "who", s.player_id.slice(0, 8)),
      el("span", "when", new Date(s.submitted_at).toISOString().slice(0, 16).replace("T", " ")),
    );
    if (s.evidence_url && /^https?:\/\//.test(s.evidence_url)) {
      const link = el("a", "evidence", "evidence");
      link.href = s.evidence_url;
      link.rel = "noopener noreferrer";
      link.target = "_blank";
      head.append(link);
    }
    const reason = el("input", "reason");
    reason.placeholder = "reason (to reject)";
    reason.setAttribute("aria-label", `reason to reject #${s.id}`);
    const approve = el("button", "approve", "Approve");
    approve.type = "button";
    approve.addEventListener("click", () => decide(s.id, "approve"));
    const reject = el("button", "reject ghost", "Reject");
    reject.type = "button";
    reject.addEventListener("click", () => {
      if (!reason.value.trim()) {
        say(`Give a reason to reject #${s.id}.`);
        reason.focus();
        return;
      }
      decide(s.id, "reject", { reason: reason.value.trim() });
    });
    li.append(head, reason, approve, reject);
    return li;
  }

  async function load() {
    const { status, answer } = await call(
      "GET", `/v1/leaderboards/${encodeURIComponent(BOARD)}/submissions?status=pending&limit=100`,
    );
    const list = $("review-queue");
    if (status !== 200) {
      list.hidden = true;
      say(status === 401 || status === 403
        ? "This token may not review this board."
        : (answer && answer.detail) || `The queue cannot be read (${status}).`);
      if (status === 401 || status === 403) forget(false);
      return;
    }
    list.replaceChildren(...answer.submissions.map(item));
    list.hidden = answer.submissions.length === 0;
    if (answer.submissions.length === 0) say("Nothing is waiting for review.");
  }

  async function decide(id, action, body) {
    const { status, answer } = await call("POST", `/v1/submissions/${id}/${action}`, body);
    if (status === 200) {
      say(`${action === "approve" ? "Approved" : "Rejected"} #${id}.`);
    } else if (status === 409) {
      say(`#${id} was decided already.`);
    } else {
      say((answer && answer.detail) || `#${id}: ${status}`);
    }
    await load().then(() => {
      if (status === 200 || status === 409) $("review-message").hidden = false;
    });
  }

  function forget(clearMessage = true) {
    token = null;
    $("review-queue").replaceChildren();
    $("review-queue").hidden = true;
    $("review-forget").hidden = true;
    if (clearMessage) say("");
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("review-login").addEventListener("submit", (event) => {
      event.preventDefault();
      const typed = $("review-token").value.trim();
      $("review-token").value = "";
      if (!typed) return;
      token = typed;
      $("review-forget").hidden = false;
      say("");
      load();
    });
    $("review-forget").addEventListener("click", () => forget());
  });
})();
