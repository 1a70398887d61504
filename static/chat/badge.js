// "Chat · N here" beside an event: reads the open rooms once and every 30 s.
(function () {
  "use strict";
  const links = document.querySelectorAll("[data-chat-event]");
  if (!links.length) return;
  function refresh() {
    fetch("/api/v1/chat/rooms/", { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : []))
      .then(function (rooms) {
        const byEvent = new Map(rooms.filter((r) => r.event_id).map((r) => [String(r.event_id), r.present]));
        links.forEach(function (link) {
          const count = link.querySelector("[data-chat-count]");
          if (!count) return;
          const n = byEvent.get(link.dataset.chatEvent) || 0;
          count.textContent = n ? " · " + n + " here" : "";
        });
      })
      .catch(() => {});
  }
  refresh();
  setInterval(refresh, 30000);
})();
