// The live edges board: snapshot, then versioned deltas over /ws/odds/.
(function () {
  "use strict";
  const BT = (window.BT = window.BT || {});

  function pct(v, places) { return v == null ? "–" : (v * 100).toFixed(places == null ? 2 : places) + "%"; }
  function american(v) { return v > 0 ? "+" + v : String(v); }
  function esc(s) { const d = document.createElement("div"); d.textContent = s == null ? "" : String(s); return d.innerHTML; }
  const KIND = { arbitrage: "Arbitrage", positive_ev: "+EV", middle: "Middle" };

  function stake(kelly, sizing) {
    if (!sizing || kelly <= 0 || sizing.available_minor <= 0) return "0.00";
    const fraction = Math.min(kelly * sizing.multiplier, sizing.max_kelly);
    let minor = Math.floor(sizing.available_minor * fraction);
    if (sizing.cap_minor != null) minor = Math.min(minor, sizing.cap_minor);
    return (Math.max(0, minor) / 100).toFixed(2);
  }

  function rowHtml(e, sizing) {
    const books = e.kind === "positive_ev" ? esc(e.sportsbook_title) : e.legs.map((l) => esc(l.sportsbook_title)).join(" / ");
    const fair = e.fair_odds_decimal ? Number(e.fair_odds_decimal).toFixed(3) : (e.fair_probability ? pct(e.fair_probability, 1) : "–");
    const age = Math.max(0, Math.round(Date.now() / 1000 - e.oldest_quote_ts));
    return (
      '<td><span class="badge ' + e.kind + '">' + KIND[e.kind] + "</span></td>" +
      '<td><a href="/events/' + e.event_id + '/">' + esc(e.matchup) + "</a></td>" +
      "<td>" + esc(e.market_type) + (e.player ? " · " + esc(e.player) : "") + "</td>" +
      '<td><a href="/edges/' + e.edge_id + '/" data-col="side">' + esc(e.side) + "</a></td>" +
      '<td data-col="book">' + books + "</td>" +
      '<td class="num" data-col="price">' + american(e.best_odds_american) + ' <span class="muted small">' + Number(e.best_odds_decimal).toFixed(3) + "</span></td>" +
      '<td class="num" data-col="fair">' + fair + "</td>" +
      '<td class="num pos" data-col="edge">' + pct(e.edge_percentage) + "</td>" +
      '<td class="num pos" data-col="ev">' + pct(e.expected_value_per_dollar) + "</td>" +
      '<td class="num" data-col="stake">$' + stake(e.kelly_fraction, sizing) + "</td>" +
      '<td class="num muted" data-col="age">' + age + "s</td>" +
      (e.kind === "positive_ev"
        ? '<td><a class="btn small" data-testid="bet-edge" href="/bets/slip/?edge_id=' + encodeURIComponent(e.edge_id) + '">Bet</a></td>'
        : '<td><a class="btn ghost small" href="/edges/' + encodeURIComponent(e.edge_id) + '/">Legs</a></td>')
    );
  }

  function sortKey(e, ordering) {
    if (ordering === "-edge") return -e.edge_percentage;
    if (ordering === "-discovered") return -Date.parse(e.discovered_at);
    return -e.expected_value_per_dollar;
  }

  BT.edgeBoard = function (table) {
    const body = table.tBodies[0];
    const sizing = JSON.parse(document.getElementById("board-sizing").textContent);
    const status = document.getElementById("board-status");
    const empty = document.getElementById("board-empty");
    const ordering = table.dataset.ordering || "-ev";
    const data = new Map(); // edge_id -> edge dict (latest version)
    body.querySelectorAll("tr[data-edge-id]").forEach((tr) => data.set(tr.dataset.edgeId, { version: Number(tr.dataset.version), _row: tr }));

    function filters() {
      const out = {};
      new FormData(document.getElementById("edge-filters")).forEach((v, k) => { if (v !== "") out[k] = v; });
      return out;
    }
    function refreshEmpty() { empty.hidden = body.querySelector("tr[data-edge-id]:not(.leaving)") !== null; }

    function place(tr, e) {
      // keep the board ordered: insert before the first row that ranks lower
      const key = sortKey(e, ordering);
      for (const other of body.children) {
        const d = data.get(other.dataset.edgeId);
        if (other !== tr && d && d.edge_id && sortKey(d, ordering) > key) { body.insertBefore(tr, other); return; }
      }
      if (tr.parentNode !== body || tr.nextSibling) body.appendChild(tr);
    }

    function upsert(e) {
      const known = data.get(e.edge_id);
      if (known && known.version > e.version) return; // an older delta: drop it
      let tr = known && known._row;
      if (!tr || !tr.isConnected) { tr = document.createElement("tr"); tr.dataset.edgeId = e.edge_id; }
      tr.className = "";
      tr.innerHTML = rowHtml(e, sizing);
      tr.dataset.version = e.version;
      tr.dataset.quoteTs = e.oldest_quote_ts;
      data.set(e.edge_id, Object.assign({}, e, { _row: tr }));
      place(tr, e);
      if (e.status === "stale") tr.classList.add("stale");
      void tr.offsetWidth; tr.classList.add("flash");
      refreshEmpty();
    }

    function remove(id, version) {
      const known = data.get(id);
      if (!known || (version != null && known.version > version)) return;
      data.delete(id);
      const tr = known._row;
      if (tr && tr.isConnected) { tr.classList.add("leaving"); setTimeout(() => { tr.remove(); refreshEmpty(); }, 600); }
    }

    BT.socket("/ws/odds/", {
      open: (ws) => { status.textContent = "live"; ws.send(JSON.stringify({ action: "subscribe", board: filters() })); },
      message: (frame) => {
        (frame.type === "deltas" ? frame.deltas : [frame]).forEach(handle);
      },
    });
    function handle(msg) {
        if (msg.type === "snapshot" && msg.scope === "board") {
          const seen = new Set(msg.edges.map((e) => e.edge_id));
          for (const id of Array.from(data.keys())) if (!seen.has(id)) remove(id);
          msg.edges.forEach(upsert);
          status.textContent = "live · " + msg.edges.length + " edges";
        } else if (msg.type === "edge.updated") {
          if (msg.edge.status === "expired") remove(msg.edge.edge_id, msg.version); else upsert(msg.edge);
        } else if (msg.type === "edge.removed") {
          remove(msg.edge_id, msg.version);
        } else if (msg.type === "error") {
          BT.toast(msg.error.message, "error");
        }
    }
    setInterval(() => {
      const now = Date.now() / 1000;
      body.querySelectorAll("tr[data-quote-ts]").forEach((tr) => {
        const cell = tr.querySelector('[data-col="age"]');
        if (cell) cell.textContent = Math.max(0, Math.round(now - Number(tr.dataset.quoteTs))) + "s";
      });
    }, 1000);
  };

  // Event page: quote cells update in place; the best price keeps its mark.
  BT.eventGrid = function (root) {
    const eventId = Number(root.dataset.eventId);
    const versions = new Map();
    BT.socket("/ws/odds/", {
      open: (ws) => ws.send(JSON.stringify({ action: "subscribe", events: [eventId] })),
      message: (frame) => {
        (frame.type === "deltas" ? frame.deltas : [frame]).forEach(handle);
      },
    });
    function handle(msg) {
        if (msg.type === "quote.updated") {
          const q = msg.quote;
          const key = q.outcome_id + ":" + q.sportsbook;
          if ((versions.get(key) || 0) > msg.version) return;
          versions.set(key, msg.version);
          const cell = root.querySelector('[data-quote="' + key + '"]');
          if (!cell) return;
          cell.textContent = Number(q.price_decimal).toFixed(3);
          cell.classList.toggle("muted", q.is_suspended);
          cell.classList.remove("flash-cell"); void cell.offsetWidth; cell.classList.add("flash-cell");
          const row = cell.closest("tr");
          let best = null;
          row.querySelectorAll("[data-quote]").forEach((c) => {
            c.classList.remove("best");
            const v = Number(c.textContent);
            if (!c.classList.contains("muted") && v && (!best || v > Number(best.textContent))) best = c;
          });
          if (best) best.classList.add("best");
        } else if (msg.type === "event.status") {
          const el = root.querySelector("[data-event-status]");
          if (el) el.textContent = msg.status + (msg.home_score != null ? " · " + msg.away_score + "–" + msg.home_score : "");
        }
    }
  };

  document.addEventListener("DOMContentLoaded", () => {
    const table = document.getElementById("edge-board");
    if (table) BT.edgeBoard(table);
    const grid = document.querySelector("[data-event-grid]");
    if (grid) BT.eventGrid(grid);
  });
})();
