// The daily progress chart (Apache ECharts, vendored; no outside call).
(function () {
  "use strict";
  window.addEventListener("load", function () {
    var node = document.getElementById("progress-chart");
    var data = document.getElementById("chart-data");
    if (!node || !data || !window.echarts) return;
    var d = JSON.parse(data.textContent);
    var chart = window.echarts.init(node, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0, data: ["当日缴费人数", "累计缴费人数", "目标任务"] },
      grid: { left: 56, right: 64, top: 56, bottom: 32, containLabel: true },
      xAxis: { type: "category", data: d.days },
      // People are counted in whole numbers: no 0.2 ticks when a day has one payment.
      yAxis: [{ type: "value", name: "当日", minInterval: 1 }, { type: "value", name: "累计", minInterval: 1 }],
      series: [
        { name: "当日缴费人数", type: "bar", data: d.paid, barMaxWidth: 36, itemStyle: { color: "#9cc4ec" } },
        { name: "累计缴费人数", type: "line", yAxisIndex: 1, data: d.cumulative, itemStyle: { color: "#0b63b6" } },
        { name: "目标任务", type: "line", yAxisIndex: 1, data: d.days.map(function () { return d.target; }),
          lineStyle: { type: "dashed", color: "#b3261e" }, symbol: "none" }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
