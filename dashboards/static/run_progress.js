// Live run progress: poll /runs/<id>/progress until the run is final, updating the counts.
(function () {
  "use strict";
  var root = document.getElementById("run");
  if (!root || root.dataset.final === "true") { return; }
  var url = "/runs/" + encodeURIComponent(root.dataset.runId) + "/progress";
  var format = new Intl.NumberFormat("en-US");
  function show(run) {
    root.querySelectorAll("[data-field]").forEach(function (el) {
      var field = el.dataset.field;
      if (field === "live") { return; }
      if (!(field in run)) { return; }
      var value = run[field];
      if (typeof value === "number") { el.textContent = format.format(value); }
      else if (field === "status") { el.textContent = value; el.className = "badge " + value; }
      else if (field === "finished_at") { el.textContent = value ? value.slice(0, 16).replace("T", " ") + " UTC" : "—"; }
      else { el.textContent = value || ""; }
    });
    root.dataset.status = run.status;
    var confirm = document.getElementById("confirm");
    if (confirm && run.kind === "dry_run" && run.status === "planned") { confirm.hidden = false; }
    if (run.final) {
      // Reload once so the server renders the final page (plan exclusions, next actions).
      window.location.reload();
    }
  }
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (run) {
        if (run) { show(run); }
        if (!run || !run.final) { window.setTimeout(tick, 2000); }
      })
      .catch(function () { window.setTimeout(tick, 5000); });
  }
  window.setTimeout(tick, 1000);
})();
