// A figures page's chart (web/_figures.html): bookings as bars and money as a line, by day,
// from the page's JSON; SVG on phones (crisp, light on memory), canvas on larger screens.
window.addEventListener("DOMContentLoaded", () => {
  const data = JSON.parse(document.getElementById("chart-data").textContent);
  const box = document.getElementById("chart");
  const chart = echarts.init(box, null, {renderer: window.innerWidth < 768 ? "svg" : "canvas"});
  chart.setOption({
    animation: false,
    tooltip: {trigger: "axis"},
    legend: {data: [data.names.bookings, data.names.paid], bottom: 0},
    grid: {left: 40, right: 50, top: 20, bottom: 50},
    xAxis: {type: "category", data: data.days},
    yAxis: [{type: "value", minInterval: 1}, {type: "value"}],
    series: [
      {name: data.names.bookings, type: "bar", data: data.bookings, itemStyle: {color: "#1556c0"}},
      {name: data.names.paid, type: "line", yAxisIndex: 1, data: data.paid, itemStyle: {color: "#b3261e"}},
    ],
  });
  box.dataset.drawn = chart.getOption().series[0].data.reduce((a, b) => a + b, 0);
  window.addEventListener("resize", () => chart.resize());
});
