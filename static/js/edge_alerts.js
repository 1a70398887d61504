// The alerts page: a live edge alert (from the notification socket) joins the list of matches.
(function () {
  "use strict";
  document.addEventListener("bt:notification", function (event) {
    const p = event.detail || {};
    if (p.type !== "edge.alert") return;
    const list = document.getElementById("alert-hits");
    if (!list) return;
    const empty = document.getElementById("alert-hits-empty");
    if (empty) empty.remove();
    (p.edges || []).forEach(function (edge) {
      const li = document.createElement("li");
      li.dataset.testid = "alert-hit";
      const a = document.createElement("a");
      a.href = edge.url;
      a.textContent = edge.matchup + ": " + edge.side;
      const info = document.createElement("span");
      info.className = "muted small";
      info.textContent = " EV " + edge.ev_percent + "% · " + edge.alert + " · just now";
      li.append(a, info);
      list.prepend(li);
    });
  });
})();
