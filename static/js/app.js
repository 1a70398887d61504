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

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.body.dataset.user) return;
    BT.notifications = BT.socket("/ws/notifications/", {
      message: function (msg) {
        if (msg.type !== "notification") return;
        const p = msg.payload || {};
        BT.toast(p.message || p.title || JSON.stringify(p), p.kind);
        document.dispatchEvent(new CustomEvent("bt:notification", { detail: p }));
      },
    });
  });
})();
