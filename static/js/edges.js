// The live edges board and the event page: snapshot, then versioned deltas over /ws/odds/.
//
// The board holds still: cells update in place (a focused link or a hovered row is never
// re-created), and while the pointer or keyboard focus is on the board, or the order is
// held, new rows, removals and reorders wait behind a "N new edges, M changed order" bar.
// Every number goes through BT.fmt (format.js) in the viewer's odds format. No server or URL
// text ever reaches innerHTML: rows are built from elements and text nodes.
(function () {
  "use strict";
  const BT = (window.BT = window.BT || {});
  const DASH = "\u2013";
  const COLUMNS = [
    ["kind", "Kind", ""], ["event", "Event", "wide"], ["market", "Market", ""], ["side", "Side", ""],
    ["book", "Book", ""], ["price", "Price", "num"], ["fair", "Fair price", "num"], ["edge", "Edge %", "num pos"],
    ["ev", "EV %", "num pos"], ["stake", "Stake (USD)", "num"], ["age", "Age (s)", "num muted"], ["action", "", "action"],
  ];
  const EDGE_ID = /^[A-Za-z0-9_-]{1,40}$/;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text != null) node.textContent = String(text);
    return node;
  }
  function setText(node, text) {
    if (node.textContent === text) return false;
    node.textContent = text;
    return true;
  }
  function mark(cell) {
    // a quiet cue on the changed cell only (no row flash, no colour drop)
    cell.classList.remove("changed");
    void cell.offsetWidth;
    cell.classList.add("changed");
  }

  // Integer minor units of the viewer's Kelly stake (the same rule as pricing.recommended_stake_minor).
  function stakeMinor(kelly, sizing) {
    if (!sizing || !(kelly > 0) || sizing.available_minor <= 0) return 0;
    const fraction = Math.min(kelly * sizing.multiplier, sizing.max_kelly);
    let minor = Math.floor(sizing.available_minor * fraction);
    if (sizing.cap_minor != null) minor = Math.min(minor, sizing.cap_minor);
    return Math.max(0, minor);
  }

  function sortKey(e, ordering) {
    if (ordering === "-edge") return -Number(e.edge_percentage);
    if (ordering === "-discovered") return -Date.parse(e.discovered_at);
    return -Number(e.expected_value_per_dollar);
  }

  function buildRow(e) {
    const tr = el("tr");
    tr.dataset.edgeId = e.edge_id;
    COLUMNS.forEach(([col, label, cls]) => {
      const td = el("td", { "data-col": col });
      if (label) td.dataset.label = label;
      if (cls) td.className = cls;
      tr.appendChild(td);
    });
    const cell = (c) => tr.querySelector('[data-col="' + c + '"]');
    cell("kind").appendChild(el("span", { class: "badge" }));
    cell("event").appendChild(el("a"));
    cell("side").appendChild(el("a"));
    const action = el("a", { class: "btn small" });
    action.append(el("span", { class: "label" }), el("span", { class: "visually-hidden" }));
    cell("action").appendChild(action);
    return tr;
  }

  // Writes the edge into the row's existing cells; returns true when a figure changed.
  function fill(tr, e, sizing, isNew) {
    const fmt = BT.fmt;
    const cell = (c) => tr.querySelector('[data-col="' + c + '"]');
    const isEv = e.kind === "positive_ev";
    tr.dataset.kind = e.kind;
    tr.dataset.version = e.version;
    tr.dataset.quoteTs = e.oldest_quote_ts;
    tr.classList.toggle("stale", e.status === "stale");

    const badge = cell("kind").firstChild;
    badge.className = "badge " + e.kind;
    setText(badge, fmt.kind(e.kind));
    const event = cell("event").firstChild;
    event.setAttribute("href", "/events/" + encodeURIComponent(Number(e.event_id)) + "/");
    setText(event, e.matchup || "");
    setText(cell("market"), fmt.market(e.market_type) + (e.player ? " · " + e.player : ""));
    const side = cell("side").firstChild;
    side.setAttribute("href", "/edges/" + encodeURIComponent(e.edge_id) + "/");
    setText(side, e.side || "");
    const books = isEv ? fmt.book(e.sportsbook, e.sportsbook_title) : (e.legs || []).map((l) => fmt.book(l.sportsbook, l.sportsbook_title)).join(" / ");
    setText(cell("book"), books);

    let moved = false;
    const figures = {
      price: fmt.odds(e.best_odds_decimal, e.best_odds_american),
      fair: isEv ? fmt.odds(e.fair_odds_decimal) : DASH,
      edge: fmt.percent(e.edge_percentage, 2),
      ev: fmt.percent(e.expected_value_per_dollar, 2),
      stake: isEv ? fmt.amount(stakeMinor(e.kelly_fraction, sizing)) : "split",
    };
    Object.entries(figures).forEach(([col, text]) => {
      const c = cell(col);
      if (setText(c, text) && !isNew) { mark(c); moved = true; }
    });
    cell("stake").classList.toggle("muted", !isEv);
    setText(cell("age"), String(Math.max(0, Math.round(Date.now() / 1000 - e.oldest_quote_ts))));

    const action = cell("action").firstChild;
    action.classList.toggle("ghost", !isEv);
    if (isEv) {
      action.setAttribute("href", "/bets/slip/?edge_id=" + encodeURIComponent(e.edge_id));
      action.dataset.testid = "bet-edge";
      setText(action.querySelector(".label"), "Bet");
      setText(action.querySelector(".visually-hidden"), " " + (e.side || ""));
    } else {
      action.setAttribute("href", "/edges/" + encodeURIComponent(e.edge_id) + "/");
      delete action.dataset.testid;
      setText(action.querySelector(".label"), "Legs");
      setText(action.querySelector(".visually-hidden"), " of " + (e.side || ""));
    }
    return moved;
  }

  // A closed edge stays in place while the board is held, plainly closed and not bettable.
  // Its button element is kept (keyboard focus may be on it) but says so and does nothing.
  function close(tr) {
    tr.classList.add("closed");
    const action = tr.querySelector('[data-col="action"] a');
    if (!action) return;
    action.setAttribute("aria-disabled", "true");
    action.classList.add("ghost");
    delete action.dataset.testid;
    setText(action.querySelector(".label"), "Closed");
    setText(action.querySelector(".visually-hidden"), ": this edge is gone");
  }

  BT.edgeBoard = function (table) {
    const body = table.tBodies[0];
    const sizing = JSON.parse(document.getElementById("board-sizing").textContent);
    const status = document.getElementById("board-status");
    const empty = document.getElementById("board-empty");
    const zone = document.getElementById("board-zone") || table;
    const pendingBar = document.getElementById("board-pending");
    const pendingText = document.getElementById("board-pending-text");
    const applyButton = document.getElementById("board-apply");
    const pauseButton = document.getElementById("board-pause");
    const form = document.getElementById("edge-filters");
    const ordering = table.dataset.ordering || "-ev";
    const data = new Map(); // edge_id -> latest edge dict (with _row)
    const pendingNew = new Map(); // edge_id -> row waiting to be shown
    const pendingClosed = new Set();
    const reordered = new Set();
    let hovering = false, paused = false, live = false;

    body.querySelectorAll("tr[data-edge-id]").forEach((tr) => data.set(tr.dataset.edgeId, { version: Number(tr.dataset.version), _row: tr }));

    // --- filters: percents on screen, fractions on the wire
    function syncPercents() {
      form.querySelectorAll("[data-percent-of]").forEach((input) => {
        const hidden = form.querySelector('input[name="' + input.dataset.percentOf + '"]');
        const value = input.value.trim();
        hidden.value = value === "" || isNaN(Number(value)) ? "" : String(Number(value) / 100);
      });
    }
    form.addEventListener("submit", syncPercents);
    form.addEventListener("input", syncPercents);
    function filters() {
      syncPercents();
      const out = {};
      new FormData(form).forEach((v, k) => { if (v !== "") out[k] = v; });
      return out;
    }

    // --- holding still
    function holding() {
      const active = document.activeElement;
      return paused || hovering || (active && active !== document.body && zone.contains(active) && active !== applyButton && active !== pauseButton);
    }
    zone.addEventListener("pointerenter", () => { hovering = true; });
    zone.addEventListener("pointerleave", () => { hovering = false; settle(); });
    zone.addEventListener("focusout", () => setTimeout(settle, 0));
    pauseButton.addEventListener("click", () => {
      paused = !paused;
      pauseButton.setAttribute("aria-pressed", String(paused));
      pauseButton.textContent = paused ? "Resume live order" : "Hold the order";
      settle();
    });
    applyButton.addEventListener("click", () => { apply(); pauseButton.focus(); });
    table.addEventListener("click", (event) => {
      const link = event.target.closest("a[aria-disabled=true]");
      if (link) event.preventDefault();
    });

    function rows() { return Array.from(body.querySelectorAll("tr[data-edge-id]")); }
    function shownCount() { return body.querySelectorAll("tr[data-edge-id]:not(.closed)").length; }
    function refresh() {
      const count = shownCount();
      empty.hidden = count > 0 || pendingNew.size > 0;
      if (live) status.textContent = "live · " + count + (count === 1 ? " edge" : " edges");
      const parts = [];
      if (pendingNew.size) parts.push(pendingNew.size + (pendingNew.size === 1 ? " new edge" : " new edges"));
      if (reordered.size) parts.push(reordered.size + " changed order");
      if (pendingClosed.size) parts.push(pendingClosed.size + " closed");
      pendingBar.hidden = parts.length === 0;
      pendingText.textContent = parts.join(", ");
    }
    function settle() { if (!holding()) apply(); else refresh(); }

    function inOrder(tr) {
      const d = data.get(tr.dataset.edgeId);
      const prev = tr.previousElementSibling, next = tr.nextElementSibling;
      const key = sortKey(d, ordering);
      const before = prev && data.get(prev.dataset.edgeId);
      const after = next && data.get(next.dataset.edgeId);
      return (!before || !before.edge_id || sortKey(before, ordering) <= key) && (!after || !after.edge_id || sortKey(after, ordering) >= key);
    }

    function apply() {
      pendingClosed.forEach((id) => { const d = data.get(id); if (d && d._row) d._row.remove(); data.delete(id); });
      pendingClosed.clear();
      body.querySelectorAll("tr.closed").forEach((tr) => tr.remove());
      pendingNew.forEach((tr) => body.appendChild(tr));
      pendingNew.clear();
      reordered.clear();
      // a stable sort of the rows that know their figures; DOM moves only where the order differs
      const sorted = rows().map((tr, i) => [tr, i]).sort(([a, i], [b, j]) => {
        const da = data.get(a.dataset.edgeId), db = data.get(b.dataset.edgeId);
        const ka = da && da.edge_id ? sortKey(da, ordering) : Infinity, kb = db && db.edge_id ? sortKey(db, ordering) : Infinity;
        return ka - kb || i - j;
      });
      sorted.forEach(([tr], i) => { if (body.children[i] !== tr) body.insertBefore(tr, body.children[i] || null); });
      refresh();
    }

    function upsert(e) {
      if (!e || !EDGE_ID.test(String(e.edge_id))) return;
      const known = data.get(e.edge_id);
      if (known && known.version > e.version) return; // an older delta: drop it
      let tr = known && known._row;
      const isNew = !tr || (!tr.isConnected && !pendingNew.has(e.edge_id));
      if (isNew) { tr = buildRow(e); }
      pendingClosed.delete(e.edge_id);
      tr.classList.remove("closed");
      const action = tr.querySelector('[data-col="action"] a');
      if (action) action.removeAttribute("aria-disabled");
      if (!tr.querySelector('[data-col="action"] a .label')) {
        tr.querySelector('[data-col="action"]').replaceChildren(buildRow(e).querySelector('[data-col="action"] a'));
      }
      data.set(e.edge_id, Object.assign({}, e, { _row: tr }));
      fill(tr, e, sizing, isNew);
      if (isNew) {
        if (holding()) pendingNew.set(e.edge_id, tr);
        else { body.appendChild(tr); if (!inOrder(tr)) apply(); }
      } else if (tr.isConnected && !inOrder(tr)) {
        if (holding()) reordered.add(e.edge_id); else apply();
      }
      refresh();
    }

    function remove(id, version) {
      const known = data.get(id);
      if (!known || (version != null && known.version > version)) return;
      if (pendingNew.has(id)) { pendingNew.delete(id); data.delete(id); refresh(); return; }
      const tr = known._row;
      reordered.delete(id);
      if (tr && tr.isConnected && holding()) { close(tr); pendingClosed.add(id); }
      else { if (tr) tr.remove(); data.delete(id); }
      refresh();
    }

    function handle(msg) {
      if (msg.type === "snapshot" && msg.scope === "board") {
        const seen = new Set(msg.edges.map((e) => e.edge_id));
        for (const id of Array.from(data.keys())) if (!seen.has(id)) remove(id);
        live = true;
        msg.edges.forEach(upsert);
        refresh();
      } else if (msg.type === "edge.updated") {
        if (msg.edge.status === "expired") remove(msg.edge.edge_id, msg.version); else upsert(msg.edge);
      } else if (msg.type === "edge.removed") {
        remove(msg.edge_id, msg.version);
      } else if (msg.type === "error") {
        BT.toast((msg.error && msg.error.message) || "The live board reported an error.", "error");
      }
    }

    BT.socket("/ws/odds/", {
      open: (ws) => { status.textContent = "live"; ws.send(JSON.stringify({ action: "subscribe", board: filters() })); },
      message: (frame) => { (frame.type === "deltas" ? frame.deltas : [frame]).forEach(handle); },
    });
    setInterval(() => {
      const now = Date.now() / 1000;
      body.querySelectorAll("tr[data-quote-ts]").forEach((tr) => {
        const cell = tr.querySelector('[data-col="age"]');
        if (cell) setText(cell, String(Math.max(0, Math.round(now - Number(tr.dataset.quoteTs)))));
      });
    }, 1000);
    refresh();
  };

  // Event page: price cells update in place and keep their link; a suspended price is greyed,
  // not bettable and never marked best.
  BT.eventGrid = function (root) {
    const eventId = Number(root.dataset.eventId);
    const versions = new Map();

    function bestOf(row) {
      let best = null;
      row.querySelectorAll("[data-quote]").forEach((c) => {
        c.classList.remove("best");
        const link = c.querySelector("a.quote-link");
        if (link) link.removeAttribute("aria-describedby");
        const v = Number(c.dataset.price);
        if (c.dataset.suspended !== "true" && v > 1 && (!best || v > Number(best.dataset.price))) best = c;
      });
      if (best) best.classList.add("best");
    }

    function render(cell, q) {
      const [outcomeId, book] = cell.dataset.quote.split(":");
      const text = BT.fmt.odds(q.price_decimal);
      cell.dataset.price = q.price_decimal;
      cell.dataset.suspended = q.is_suspended ? "true" : "false";
      cell.classList.toggle("muted", !!q.is_suspended);
      let link = cell.querySelector("a.quote-link");
      if (q.is_suspended) {
        cell.replaceChildren(el("span", { title: "Suspended: not taking bets" }, text));
      } else {
        if (!link) {
          link = el("a", { class: "quote-link" });
          link.setAttribute("href", "/bets/slip/?outcome_id=" + encodeURIComponent(outcomeId) + "&sportsbook=" + encodeURIComponent(book));
          if (cell.dataset.bookName) link.setAttribute("aria-label", "Bet at " + cell.dataset.bookName + ", " + text);
          cell.replaceChildren(link);
        }
        setText(link, text);
        if (cell.dataset.bookName) link.setAttribute("aria-label", (cell.dataset.outcomeName || "Bet") + " at " + cell.dataset.bookName + ", " + text);
      }
      mark(cell);
    }

    function handle(msg) {
      if (msg.type === "quote.updated") {
        const q = msg.quote;
        const key = q.outcome_id + ":" + q.sportsbook;
        if ((versions.get(key) || 0) > msg.version) return;
        versions.set(key, msg.version);
        const cell = root.querySelector('[data-quote="' + CSS.escape(key) + '"]');
        if (!cell) return;
        const same = cell.dataset.price !== undefined && Number(cell.dataset.price) === Number(q.price_decimal) &&
          cell.dataset.suspended === (q.is_suspended ? "true" : "false");
        if (same) return; // nothing moved (a snapshot of what the page shows): no cue
        render(cell, q);
        bestOf(cell.closest("tr"));
      } else if (msg.type === "event.status") {
        const node = root.querySelector("[data-event-status]");
        if (node) node.textContent = BT.fmt.state(msg.status) + (msg.home_score != null ? " · " + msg.away_score + "–" + msg.home_score : "");
      }
    }

    BT.socket("/ws/odds/", {
      open: (ws) => ws.send(JSON.stringify({ action: "subscribe", events: [eventId] })),
      message: (frame) => {
        if (frame.type === "snapshot" && frame.scope === "events") {
          // prices that moved between the page's render and the subscription catch up here
          (frame.quotes || []).forEach((q) => handle({ type: "quote.updated", version: q.version, quote: q }));
          // the subscription's snapshot says the live updates now flow (a cue for people and tests)
          root.dataset.live = "true";
          return;
        }
        (frame.type === "deltas" ? frame.deltas : [frame]).forEach(handle);
      },
    });
  };

  document.addEventListener("DOMContentLoaded", () => {
    const table = document.getElementById("edge-board");
    if (table) BT.edgeBoard(table);
    const grid = document.querySelector("[data-event-grid]");
    if (grid) BT.eventGrid(grid);
  });
})();
