// Follows a backfill on the batch page: polls its progress every second until it ends,
// then reloads the page once so that its other tables show the new runs.
(function () {
  "use strict";
  function text(node, value) {
    if (node) node.textContent = value == null ? "" : String(value);
  }
  function render(section, data) {
    data.days.forEach(function (day) {
      var row = section.querySelector('tr[data-date="' + day.date + '"]');
      if (!row) return;
      var status = row.querySelector(".status");
      status.className = "status " + day.status;
      text(status, day.status);
      text(row.querySelector(".steps-done"), day.run_id ? day.steps_done + " / " + day.steps_total : "");
      text(row.querySelector(".current"), day.status === "failed" ? day.error : day.current_step);
      text(row.querySelector(".run"), day.run_id);
    });
    var bar = section.querySelector("progress");
    if (bar) bar.value = data.completed;
    var failed = data.days.some(function (d) { return d.status === "failed"; });
    var summary = data.completed + " of " + data.total + " day(s) settled";
    if (data.finished) summary = failed || data.refused ? "stopped: " + summary : "done: " + summary;
    text(section.querySelector(".progress-summary"), summary);
    var refused = section.querySelector(".refused");
    if (refused && data.refused) {
      text(refused, "Stopped before the end: " + data.refused);
      refused.hidden = false;
    }
  }
  function follow(section) {
    var url = section.dataset.progressUrl;
    var first = true;
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          render(section, data);
          if (!data.finished) {
            first = false;
            window.setTimeout(poll, 1000);
          } else if (first) {
            section.dataset.finished = "true";
          } else {
            window.location.reload();
          }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    poll();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-progress-url]").forEach(follow);
  });
})();
