// Bet-That betting pages: the bet slip (potential return, placement through the API with an
// Idempotency-Key, one-click accept of a moved price) and live refresh of My bets.
(function () {
  "use strict";

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  const EDGE_ID = /^[A-Za-z0-9_-]{1,40}$/; // the shape of every edge id the server issues

  function parseAmount(text) {
    const clean = String(text || "").trim();
    return /^\d+(\.\d{1,2})?$/.test(clean) ? clean : null;
  }

  // Minor units from a decimal string, without floating point.
  function toMinor(amount) {
    const [whole, frac = ""] = amount.split(".");
    return BigInt(whole) * 100n + BigInt((frac + "00").slice(0, 2));
  }


  // price as a decimal string with up to 6 places -> [numerator, 10^places]
  function priceParts(price) {
    const [whole, frac = ""] = String(price).split(".");
    const places = Math.min(frac.length, 6);
    return [BigInt(whole + frac.slice(0, places)), 10n ** BigInt(places)];
  }

  function initSlip(slip) {
    const form = slip.querySelector(".slip-form");
    if (!form) return;
    const legs = Array.from(slip.querySelectorAll(".slip-leg"));
    const message = slip.querySelector(".slip-message");
    const output = slip.querySelector("[data-testid=slip-return]");
    const stakeInput = form.querySelector("[name=stake]");

    function updateReturn() {
      const amount = parseAmount(stakeInput.value);
      if (!amount || legs.length !== 1 || !legs[0].dataset.price) { output.textContent = legs.length > 1 ? "at the parlay price" : "–"; return; }
      const [num, den] = priceParts(legs[0].dataset.price);
      output.textContent = BT.fmt.money(((toMinor(amount) * num) / den).toString(), slip.dataset.currency || "USD");
    }
    stakeInput.addEventListener("input", updateReturn);
    updateReturn();

    // The message is built from nodes: server text (which may echo what the URL carried) is
    // only ever text, never markup.
    function show(parts, kind) {
      message.replaceChildren(...[].concat(parts).map((p) => (typeof p === "string" ? document.createTextNode(p) : p)));
      message.className = "slip-message " + (kind || "");
    }
    function el(tag, attrs, text) {
      const node = document.createElement(tag);
      Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
      if (text != null) node.textContent = String(text);
      return node;
    }

    const closed = slip.dataset.closed === "true";
    async function submit(policy) {
      if (closed) { show("This market is closed at this book; nothing was placed.", "error"); return; }
      const amount = parseAmount(stakeInput.value);
      if (!amount || amount === "0" || /^0+(\.0+)?$/.test(amount)) { stakeInput.setAttribute("aria-invalid", "true"); show("Enter a stake above zero with at most two decimals, e.g. 10.00.", "error"); stakeInput.focus(); return; }
      stakeInput.removeAttribute("aria-invalid");
      const body = {
        legs: legs.map((leg) => ({ outcome_id: Number(leg.dataset.outcomeId), sportsbook: leg.dataset.sportsbook, odds_decimal: leg.dataset.price })),
        stake: amount,
        accept_price_change: policy || form.querySelector("[name=accept_price_change]").value,
      };
      if (slip.dataset.edgeId) {
        if (!EDGE_ID.test(slip.dataset.edgeId)) { show("This slip's edge link is not valid; open the bet again from the board.", "error"); return; }
        body.edge_id = slip.dataset.edgeId;
      }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const response = await fetch("/api/v1/bets/", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Idempotency-Key": slip.dataset.token },
          body: JSON.stringify(body),
        });
        const data = await response.json();
        if (response.status === 201) {
          show(["Bet placed: ", el("a", { href: "/bets/", "data-testid": "slip-placed" }, "#" + data.id), " at " + BT.fmt.odds(data.odds_decimal, data.odds_american) + " (" + data.external_id + ")."], "success");
          form.hidden = true;
          if (window.BT && BT.toast) BT.toast("Bet #" + data.id + " placed.");
          return;
        }
        const error = (data && data.error) || { message: "Something went wrong." };
        if (error.code === "price_changed") {
          const moved = (error.details.legs || []).filter((l) => l.current !== l.requested);
          moved.forEach((l) => { const leg = legs.find((x) => Number(x.dataset.outcomeId) === l.outcome_id); if (leg) leg.dataset.pendingPrice = l.current; });
          const text = moved.map((l) => BT.fmt.odds(l.requested) + " → " + BT.fmt.odds(l.current)).join(", ");
          const accept = el("button", { type: "button", class: "btn", "data-testid": "slip-accept" }, "Accept new price");
          show(["The price moved (" + text + "). ", accept], "warn");
          accept.addEventListener("click", () => {
            legs.forEach((leg) => { if (leg.dataset.pendingPrice) { leg.dataset.price = leg.dataset.pendingPrice; delete leg.dataset.pendingPrice; } });
            updateReturn();
            submit();
          });
        } else {
          show([String(error.message || "Something went wrong."), error.code ? el("span", { class: "muted small" }, " (" + error.code + ")") : ""], "error");
        }
      } catch (e) {
        show("Could not reach the server; your bet was not placed. Try again.", "error");
      } finally {
        button.disabled = closed;
      }
    }

    form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
  }

  function refreshBets() {
    const table = document.getElementById("bet-table");
    if (!table) return;
    if (window.htmx) window.htmx.ajax("GET", location.pathname + location.search, { target: "#bet-table", swap: "innerHTML" });
    else location.reload();
  }

  function init(root) {
    (root || document).querySelectorAll(".bet-slip").forEach((slip) => { if (!slip.dataset.ready) { slip.dataset.ready = "1"; initSlip(slip); } });
  }

  document.addEventListener("DOMContentLoaded", () => init());
  document.addEventListener("htmx:afterSwap", (event) => init(event.target));
  document.addEventListener("bt:notification", (event) => {
    const payload = event.detail || {};
    if (payload.type === "bet.settled") refreshBets();
  });
})();
