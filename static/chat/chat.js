// Bet-That chat room: live messages, presence, reactions, reports, history on scroll-up,
// and for an event room the live market beside it. Text only ever goes in via textContent.
(function () {
  "use strict";
  const root = document.getElementById("chat");
  if (!root) return;
  const BT = window.BT || {};
  const slug = root.dataset.room;
  const me = Number(root.dataset.userId);
  const list = document.getElementById("messages");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("chat-text");
  const errorBox = document.getElementById("chat-error");
  const older = document.getElementById("load-older");
  const reactions = JSON.parse(document.getElementById("chat-reactions").textContent);
  let before = root.dataset.before || null;
  let seq = null;
  let socket = null;
  const pending = new Map(); // client_id -> text, resent after a reconnect

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function timeOf(iso) {
    return BT.fmt.when(iso, "clock"); // in the user's zone, like the server-rendered history
  }

  function card(att) {
    const box = el("div", "chat-card");
    box.appendChild(el("strong", null, att.kind === "edge" ? "Edge: " + att.selection : "Bet: " + att.selection));
    box.appendChild(el("div", "small muted", att.event + (att.book ? " · " + att.book : "")));
    const figures = "Price " + att.price_decimal + (att.fair_decimal ? " · fair " + att.fair_decimal : "") +
      (att.ev_per_dollar !== undefined ? " · EV " + att.ev_per_dollar : "") + (att.result ? " · " + att.result : "");
    box.appendChild(el("div", "small", figures));
    if (att.slip_url && /^\/bets\/slip\/\?[\w=&.-]+$/.test(att.slip_url)) {
      const a = el("a", "btn small", "Open bet slip");
      a.href = att.slip_url;
      box.appendChild(a);
    }
    return box;
  }

  function render(m) {
    const li = el("li", "chat-msg" + (m.state !== "visible" ? " tombstone" : "") + (m.user.id === me ? " mine" : ""));
    li.dataset.id = m.id;
    li.appendChild(el("span", "who", m.user.name));
    li.appendChild(document.createTextNode(" "));
    const t = el("time", "small muted", timeOf(m.ts));
    t.dateTime = m.ts;
    li.appendChild(t);
    const p = el("p", "text");
    if (m.state === "visible") {
      p.textContent = m.text;
    } else {
      p.appendChild(el("em", null, m.state === "hidden" ? "Hidden by a moderator" : "Deleted by its author"));
    }
    li.appendChild(p);
    if (m.state === "visible" && m.attachment) li.appendChild(card(m.attachment));
    if (m.state === "visible") {
      const bar = el("div", "reactions");
      Object.keys(reactions).forEach(function (emoji) {
        const n = (m.reactions || {})[emoji] || 0;
        const b = el("button", "react" + (n ? " on" : ""), emoji + (n ? " " + n : ""));
        b.type = "button";
        b.dataset.emoji = emoji;
        b.setAttribute("aria-label", reactions[emoji] + ": " + n);
        if (!n) b.classList.add("idle");
        bar.appendChild(b);
      });
      if (m.user.id === me) {
        const del = el("button", "linklike small act-delete", "Delete");
        del.type = "button";
        bar.appendChild(del);
      } else {
        const rep = el("button", "linklike small act-report", "Report");
        rep.type = "button";
        bar.appendChild(rep);
      }
      li.appendChild(bar);
    }
    return li;
  }

  function upsert(m, atTop) {
    const empty = document.getElementById("chat-empty");
    if (empty) empty.remove();
    const existing = list.querySelector('li[data-id="' + CSS.escape(m.id) + '"]');
    const node = render(m);
    if (existing) existing.replaceWith(node);
    else if (atTop) list.insertBefore(node, list.firstChild);
    else {
      const stick = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
      list.appendChild(node);
      if (stick || m.user.id === me) list.scrollTop = list.scrollHeight;
    }
  }

  function setPresence(p) {
    document.getElementById("presence-count").textContent = p.count;
    const people = document.getElementById("people");
    people.replaceChildren(...p.users.map((u) => el("li", null, u.name)));
  }

  function showError(err) {
    if (errorBox) errorBox.textContent = err.message || "Something went wrong.";
    else if (BT.toast) BT.toast(err.message, "error");
  }

  function loadOlder() {
    if (!before) return;
    fetch("/api/v1/chat/rooms/" + encodeURIComponent(slug) + "/messages/?before=" + encodeURIComponent(before), {
      credentials: "same-origin",
    })
      .then((r) => r.json())
      .then(function (page) {
        const height = list.scrollHeight;
        page.messages.slice().reverse().forEach((m) => upsert(m, true));
        list.scrollTop += list.scrollHeight - height;
        before = page.before;
        older.hidden = !before;
      });
  }

  function reload(hello) {
    list.replaceChildren();
    if (!hello.messages.length) list.appendChild(el("li", "chat-empty muted", "No messages yet. Say hello!")).id = "chat-empty";
    hello.messages.forEach((m) => upsert(m, false));
    list.scrollTop = list.scrollHeight;
    before = hello.before;
    older.hidden = !before;
  }

  function onFrame(f) {
    if (f.seq !== undefined) {
      if (seq !== null && f.seq > seq + 1) {
        // A gap: something was missed; a fresh hello reloads the recent history.
        socket.close(); socket = open(); return;
      }
      seq = Math.max(seq || 0, f.seq);
    }
    switch (f.type) {
      case "hello":
        seq = f.seq;
        reload(f);
        setPresence(f.presence);
        pending.forEach((text, id) => socket.send({ action: "send", text: text, client_id: id }));
        break;
      case "message":
      case "message.updated":
        upsert(f.message, false);
        break;
      case "ack":
        pending.delete(f.client_id);
        upsert(f.message, false);
        break;
      case "presence":
        setPresence(f);
        break;
      case "typing":
        if (f.user.id !== me) {
          const t = document.getElementById("typing");
          t.textContent = f.user.name + " is typing…";
          clearTimeout(t._timer);
          t._timer = setTimeout(() => (t.textContent = ""), 4000);
        }
        break;
      case "reported":
        if (BT.toast) BT.toast("Thanks: a moderator will look at it.");
        break;
      case "error":
        if (f.client_id) pending.delete(f.client_id);
        showError(f.error);
        break;
    }
  }

  function open() {
    const s = BT.socket("/ws/chat/" + slug + "/", { message: onFrame });
    return s;
  }
  socket = open();
  setInterval(() => socket.send({ action: "ping" }), 20000);

  if (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      const id = "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
      pending.set(id, text);
      errorBox.textContent = "";
      socket.send({ action: "send", text: text, client_id: id });
      input.value = "";
    });
    let lastTyping = 0;
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey) {
        e.preventDefault();
        form.requestSubmit();
      } else if (Date.now() - lastTyping > 3000) {
        // the server hears one typing signal per 3 s per socket and counts them per user
        lastTyping = Date.now();
        socket.send({ action: "typing" });
      }
    });
  }

  list.addEventListener("click", function (e) {
    const li = e.target.closest("li[data-id]");
    if (!li) return;
    const id = li.dataset.id;
    if (e.target.matches("button.react")) socket.send({ action: "react", id: id, emoji: e.target.dataset.emoji });
    else if (e.target.matches("button.act-report")) socket.send({ action: "report", id: id, reason: "" });
    else if (e.target.matches("button.act-delete")) socket.send({ action: "delete", id: id });
  });
  if (older) older.addEventListener("click", loadOlder);
  list.addEventListener("scroll", function () { if (list.scrollTop === 0 && before) loadOlder(); });

  document.querySelectorAll("button.share-edge").forEach(function (b) {
    b.addEventListener("click", function () {
      const id = "s" + Date.now().toString(36);
      socket.send({ action: "send", text: "Look at this edge", client_id: id, share: { kind: "edge", ref: b.dataset.edge } });
    });
  });

  // The live market beside an event room, from the odds socket.
  const eventId = Number(root.dataset.event);
  if (eventId) {
    BT.socket("/ws/odds/", {
      open: (ws) => ws.send(JSON.stringify({ action: "subscribe", events: [eventId] })),
      message: function (frame) {
        if (frame.type !== "deltas") return;
        frame.deltas.forEach(function (d) {
          if (d.type !== "quote.updated") return;
          const q = d.quote;
          const row = document.querySelector('.market-panel tr[data-outcome="' + Number(q.outcome_id) + '"]');
          if (!row || q.is_suspended) return;
          const cell = row.querySelector(".best-price");
          const link = cell.querySelector("a");
          const current = link ? parseFloat(link.textContent) : 0;
          const price = parseFloat(q.price_decimal);
          const book = row.querySelector(".best-book");
          if (price > current || book.textContent === q.sportsbook) {
            const a = el("a", null, price.toFixed(2));
            a.href = "/bets/slip/?outcome_id=" + Number(q.outcome_id) + "&sportsbook=" + encodeURIComponent(q.sportsbook);
            cell.replaceChildren(a);
            book.textContent = q.sportsbook;
          }
        });
      },
    });
  }
})();
