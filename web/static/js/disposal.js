// Live updates for the disposal pages (server-sent events from /disposal/stream): the open inbox reloads its
// results (and, out of band, the tab counts); a warning's disposal panel reloads when that warning changes.
(function () {
  "use strict";
  function start() {
    if (!window.EventSource) return;
    var results = document.getElementById("inbox-results");
    var panel = document.getElementById("disposal-panel");
    if (!results && !panel) return;
    var source = new EventSource("/disposal/stream");
    var pending = null;
    source.addEventListener("ready", function () { document.body.dataset.disposalLive = "on"; });
    source.addEventListener("warning", function (event) {
      var data = {};
      try { data = JSON.parse(event.data); } catch (e) { return; }
      var live = document.getElementById("inbox-live");
      if (live) {
        live.textContent = "新动态：" + (data.warningCode || "") + " " + (data.label || "") + "（列表已更新）";
        live.classList.remove("d-none");
      }
      clearTimeout(pending);
      pending = setTimeout(function () {
        if (results && window.htmx) {
          htmx.ajax("GET", window.location.pathname + window.location.search,
                    {target: "#inbox-results", swap: "outerHTML"});
        }
        panel = document.getElementById("disposal-panel");
        if (panel && window.htmx && String(data.warningId) === panel.dataset.warningId
            && !panel.querySelector("form.dirty")) {
          htmx.ajax("GET", "/disposal/warnings/" + panel.dataset.warningId, {target: "#disposal-panel", swap: "outerHTML"});
        }
      }, 300);
    });
    document.addEventListener("input", function (event) {
      var form = event.target.closest && event.target.closest("#disposal-panel form");
      if (form) form.classList.add("dirty");
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
