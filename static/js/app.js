// Bet-That: the per-user notification socket and toasts. Pages add their own sockets.
(function () {
  "use strict";
  const BT = (window.BT = window.BT || {});

  BT.toast = function (text, kind) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const el = document.createElement("div");
    el.className = "toast " + (kind || "");
    el.textContent = text;
    box.appendChild(el);
    setTimeout(() => el.remove(), 6000);
  };

  // No zone chosen (a visitor, or a user whose zone is blank): keep the browser's zone in the
  // bt_tz cookie, which the server reads for pages rendered to a visitor (a value that is not a
  // zone name is ignored there, betthat/users/timezones.py).
  (function rememberTimeZone() {
    if (document.documentElement.dataset.timeZone) return;
    let zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
    if (!/^[A-Za-z0-9_+\-]+(\/[A-Za-z0-9_+\-]+)*$/.test(zone) || zone.length > 64) return;
    const current = document.cookie.split("; ").find((c) => c.startsWith("bt_tz="));
    if (current === "bt_tz=" + zone) return;
    const secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = "bt_tz=" + zone + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
  })();

  // The user has no time zone yet: report the browser's once (stored only while blank,
  // betthat/users/timezones.py); the next page is rendered in it. Scripted times already use it.
  (function reportTimeZone() {
    const root = document.documentElement;
    const url = root.dataset.timeZoneReport;
    let zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
    if (!url || !zone) return;
    let token = "";
    try { token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { /* none */ }
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ timezone: zone }),
    }).then((r) => (r.ok ? r.json() : null)).then((data) => {
      if (!data) return;
      delete root.dataset.timeZoneReport;
      root.dataset.timeZone = data.timezone;
    }).catch(() => { /* the next page tries again */ });
  })();

  // A websocket that reconnects with backoff; onopen runs again after each reconnect.
  BT.socket = function (path, handlers) {
    let delay = 500, ws = null, closed = false;
    function connect() {
      const proto = location.protocol === "https:" ? "wss://" : "ws://";
      ws = new WebSocket(proto + location.host + path);
      ws.onopen = () => { delay = 500; handlers.open && handlers.open(ws); };
      ws.onmessage = (e) => handlers.message && handlers.message(JSON.parse(e.data), ws);
      ws.onclose = () => { if (!closed) { setTimeout(connect, delay); delay = Math.min(delay * 2, 10000); } };
    }
    connect();
    return { send: (obj) => ws && ws.readyState === 1 && ws.send(JSON.stringify(obj)), close: () => { closed = true; ws && ws.close(); } };
  };

  // The phone menu: a real button that says whether the menu is open; Escape closes it.
  function initMenu() {
    const button = document.querySelector(".nav-burger");
    const nav = document.getElementById("site-nav");
    if (!button || !nav) return;
    function set(open) { button.setAttribute("aria-expanded", String(open)); nav.classList.toggle("open", open); }
    button.addEventListener("click", () => set(button.getAttribute("aria-expanded") !== "true"));
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && button.getAttribute("aria-expanded") === "true") { set(false); button.focus(); }
    });
  }

  // A jump link to a collapsed group opens it.
  function openTarget(hash) {
    if (!hash || hash.length < 2) return;
    const target = document.getElementById(decodeURIComponent(hash.slice(1)));
    if (target && target.tagName === "DETAILS") target.open = true;
  }
  window.addEventListener("hashchange", () => openTarget(location.hash));

  document.addEventListener("DOMContentLoaded", function () {
    initMenu();
    openTarget(location.hash);
    if (!document.body.dataset.user) return;
    BT.notifications = BT.socket("/ws/notifications/", {
      message: function (msg) {
        if (msg.type === "hello") { document.body.dataset.notifications = "live"; return; }
        if (msg.type !== "notification") return;
        const p = msg.payload || {};
        BT.toast(p.message || p.title || JSON.stringify(p), p.kind);
        document.dispatchEvent(new CustomEvent("bt:notification", { detail: p }));
      },
    });
  });
})();
