// The studio's charts (from the JSON next to each canvas), sortable tables and scroll hints.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "ko";
  var formats = {
    count: new Intl.NumberFormat(lang),
    hours: new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 }),
    krw: new Intl.NumberFormat(lang, { style: "currency", currency: "KRW", maximumFractionDigits: 0 })
  };

  function drawChart(node) {
    var canvas = document.getElementById(node.dataset.canvas);
    if (!canvas || typeof Chart === "undefined") return;
    var data = JSON.parse(node.textContent);
    var format = formats[data.unit] || formats.count;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (s) {
          return { label: s.label, data: s.data, backgroundColor: s.color, stack: "all", maxBarThickness: 42 };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked: data.stacked, ticks: { maxRotation: 0, autoSkip: true } },
          y: { stacked: data.stacked, beginAtZero: true, ticks: { callback: function (v) { return format.format(v); } } }
        },
        plugins: {
          legend: { display: data.series.length > 1 },
          tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + format.format(ctx.raw); } } }
        }
      }
    });
    canvas.dataset.drawn = "true";
  }

  function sortBy(table, th) {
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.dataset.kind === "num";
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].dataset.sort, y = b.cells[index].dataset.sort;
      var order = numeric ? (x === "" ? -Infinity : Number(x)) - (y === "" ? -Infinity : Number(y))
                          : x.localeCompare(y, lang);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.querySelectorAll("th").forEach(function (other) { other.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function watchOverflow(box) {
    var hint = box.previousElementSibling;
    if (!hint || !hint.classList.contains("scroll-hint")) return;
    function update() {
      var more = box.scrollWidth - box.clientWidth - box.scrollLeft > 2;
      hint.hidden = !(box.scrollWidth > box.clientWidth + 2);
      hint.classList.toggle("at-end", !more);
    }
    update();
    box.addEventListener("scroll", update, { passive: true });
    window.addEventListener("resize", update);
    box.closest("details") && box.closest("details").addEventListener("toggle", update);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("script.chart-data").forEach(drawChart);
    document.querySelectorAll("table.sortable").forEach(function (table) {
      table.querySelectorAll("th button.sort").forEach(function (button) {
        button.addEventListener("click", function () { sortBy(table, button.parentNode); });
      });
    });
    document.querySelectorAll(".scroll").forEach(watchOverflow);
  });
})();
