// Bet-That social feed: new public bets arrive live over /ws/social/ (feed.item), results
// update in place (feed.update) and a bettor gone private disappears (feed.remove).
// Cards are cloned from <template id="feed-item-template"> and filled with textContent only.
(function () {
  "use strict";

  function label(text) {
    text = String(text || "").replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function resultText(item) {
    return item.result ? label(item.result) : label(item.status);
  }

  function resultClass(item) {
    return item.result ? item.result.replace("half_", "") : item.status;
  }

  function profitText(item) {
    if (!item.profit_units) return "";
    const units = Number(item.profit_units);
    let text = (units >= 0 ? "+" : "") + units.toFixed(2) + "u";
    if (item.net_profit) text += " (" + item.net_profit.amount + " " + item.net_profit.currency + ")";
    return text;
  }

  function setField(card, name, text) {
    const el = card.querySelector('[data-field="' + name + '"]');
    if (el) el.textContent = text;
    return el;
  }

  function fill(card, item) {
    card.dataset.publicBetId = String(item.id);
    card.dataset.handle = item.handle;
    const handle = setField(card, "handle", "@" + item.handle);
    if (handle) handle.setAttribute("href", "/u/" + encodeURIComponent(item.handle) + "/");
    setField(card, "sport", label(item.sport_key));
    const time = setField(card, "time", BT.fmt.when(item.placed_at));
    if (time) time.setAttribute("datetime", item.visible_from);
    setField(card, "selection", item.selection);
    setField(card, "odds", item.odds_american + " (" + item.odds_decimal + ")");
    setField(card, "event", item.event);
    setField(card, "market", String(item.market_type || "").replace(/_/g, " "));
    setField(card, "sportsbook", item.sportsbook);
    setField(card, "stake", item.stake.display);
    const result = setField(card, "result", resultText(item));
    if (result) result.className = "badge " + resultClass(item);
    setField(card, "profit", profitText(item));
  }

  function findCard(list, id) {
    return Array.from(list.querySelectorAll("[data-public-bet-id]")).find((el) => el.dataset.publicBetId === String(id));
  }

  document.addEventListener("DOMContentLoaded", function () {
    const list = document.getElementById("feed-list");
    const template = document.getElementById("feed-item-template");
    const status = document.getElementById("feed-status");
    if (!list || !template || list.dataset.live !== "on" || !window.BT || !BT.socket) return;

    BT.socket("/ws/social/", {
      open: function () { if (status) status.textContent = "live"; },
      message: function (msg) {
        if (msg.type === "feed.item" && msg.item) {
          if (findCard(list, msg.item.id)) return;
          const card = template.content.firstElementChild.cloneNode(true);
          fill(card, msg.item);
          const empty = list.querySelector("[data-testid=empty-state]");
          if (empty) empty.remove();
          list.prepend(card);
          if (status) status.textContent = "live · new bet from @" + msg.item.handle;
        } else if (msg.type === "feed.update" && msg.item) {
          const card = findCard(list, msg.item.id);
          if (card) fill(card, msg.item);
        } else if (msg.type === "feed.remove" && msg.handle) {
          list.querySelectorAll("[data-handle]").forEach((el) => { if (el.dataset.handle === msg.handle) el.remove(); });
        }
      },
    });
  });
})();
