// Refresh the page's main section in place every few seconds. The server
// renders the fragment with html/template (so it is escaped there), and the
// page keeps its scroll position; no inline script is needed, so the CSP
// forbids it. Refreshes pause while the tab is hidden.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var status = document.getElementById("refresh-status");
  if (!main || !window.fetch) { return; }
  var every = (parseInt(main.getAttribute("data-refresh"), 10) || 5) * 1000;

  function show(text, stale) {
    if (!status) { return; }
    status.textContent = text;
    status.classList.toggle("stale", stale);
  }

  function refresh() {
    if (document.hidden) { setTimeout(refresh, every); return; }
    fetch(location.pathname + location.search, {
      headers: { "X-Edge-Fragment": "1" }, credentials: "same-origin", cache: "no-store"
    }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.text();
    }).then(function (html) {
      main.innerHTML = html;
      show("updated " + new Date().toLocaleTimeString(), false);
    }).catch(function (err) {
      show("not updated: " + err.message, true);
    }).then(function () {
      setTimeout(refresh, every);
    });
  }
  setTimeout(refresh, every);
})();
