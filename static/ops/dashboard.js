// The operations dashboard: says whether its figures are live. htmx refreshes the panels
// (hx-trigger="every N s" in the template); this script only reports the state of those
// requests, with textContent (never markup), and reloads the page when the session ended.
(function () {
  "use strict";

  function status() {
    return document.getElementById("ops-live");
  }

  function setState(state, text) {
    var element = status();
    if (!element) return;
    element.dataset.state = state;
    var label = element.querySelector(".text");
    if (label) label.textContent = text;
  }

  function interval() {
    var panels = document.getElementById("ops-panels");
    var match = panels && /every (\d+)s/.exec(panels.getAttribute("hx-trigger") || "");
    return match ? match[1] : "10";
  }

  function isPanelsRequest(event) {
    var target = event.detail && event.detail.target;
    return target && target.id === "ops-panels";
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!isPanelsRequest(event)) return;
    var xhr = event.detail.xhr;
    // A redirect to the login page means the session ended: show the login, not a panel of it.
    if (xhr && xhr.responseURL && xhr.responseURL.indexOf("/panels/") === -1) {
      event.detail.shouldSwap = false;
      window.location.reload();
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (!isPanelsRequest(event)) return;
    setState("live", "Live: refreshes every " + interval() + " s");
  });

  function lost(event) {
    if (!isPanelsRequest(event)) return;
    setState("lost", "Connection lost: showing the last figures, retrying every " + interval() + " s");
  }

  document.addEventListener("htmx:sendError", lost);
  document.addEventListener("htmx:responseError", lost);
  document.addEventListener("htmx:timeout", lost);
})();
