// Draws each daily-earnings chart from the JSON embedded next to its canvas.
(function () {
  "use strict";
  function krw(value) {
    return "\u20a9" + Number(value).toLocaleString("en-US");
  }
  function draw(node) {
    var canvas = document.getElementById(node.dataset.canvas);
    if (!canvas || typeof Chart === "undefined") return;
    var data = JSON.parse(node.textContent);
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "From views", data: data.video, backgroundColor: "#3b6fd8", stack: "earnings" },
          { label: "From ads", data: data.ad, backgroundColor: "#f29f3d", stack: "earnings" }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true } },
          y: { stacked: true, beginAtZero: true, ticks: { callback: krw } }
        },
        plugins: {
          tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + krw(ctx.raw); } } }
        }
      }
    });
    canvas.dataset.drawn = "true";
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("script.chart-data").forEach(draw);
  });
})();
