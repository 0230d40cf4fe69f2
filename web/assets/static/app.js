// Refresh the page's main section in place every few seconds. The server
// renders the fragment with html/template (so it is escaped there), and the
// page keeps its scroll position; no inline script is needed, so the CSP
// forbids it. Refreshes pause while the tab is hidden.
//
// The routes search is a plain GET form; with this script it narrows the
// list as you type: the address bar takes the query (so a refresh, a
// reload or a shared link keeps it) and the server renders the matches.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var status = document.getElementById("refresh-status");
  if (!main || !window.fetch) { return; }
  var every = (parseInt(main.getAttribute("data-refresh"), 10) || 5) * 1000;
  var timer = null;
  var seq = 0;

  function show(text, stale) {
    if (!status) { return; }
    status.textContent = text;
    status.classList.toggle("stale", stale);
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(refresh, ms);
  }

  function refresh() {
    if (document.hidden) { schedule(every); return; }
    var mine = ++seq;
    var open = {};
    main.querySelectorAll("details[id]").forEach(function (d) { open[d.id] = d.open; });
    fetch(location.pathname + location.search, {
      headers: { "X-Edge-Fragment": "1" }, credentials: "same-origin", cache: "no-store"
    }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.text();
    }).then(function (html) {
      if (mine !== seq) { return; } // a newer search is on its way
      main.innerHTML = html;
      main.querySelectorAll("details[id]").forEach(function (d) {
        if (d.id in open) { d.open = open[d.id]; }
      });
      show("updated " + new Date().toLocaleTimeString(), false);
    }).catch(function (err) {
      show("not updated: " + err.message, true);
    }).then(function () {
      if (mine === seq) { schedule(every); }
    });
  }

  var form = document.getElementById("route-search");
  if (form && window.URLSearchParams && window.FormData && history.replaceState) {
    var search = function () {
      var params = new URLSearchParams();
      new FormData(form).forEach(function (v, k) { if (v !== "") { params.append(k, v); } });
      var qs = params.toString();
      history.replaceState(null, "", location.pathname + (qs ? "?" + qs : ""));
      refresh();
    };
    var pending = null;
    form.addEventListener("input", function () {
      clearTimeout(pending);
      pending = setTimeout(search, 150);
    });
    form.addEventListener("change", search);
    form.addEventListener("submit", function (e) { e.preventDefault(); search(); });
  }
  schedule(every);
})();
