// Keyboard and chart helpers of the certification form.
(() => {
  const form = document.getElementById("certify-form");
  if (!form) return;
  const ranges = form.querySelector("#bad_ranges");
  // Ctrl+Enter: certify and open the next run.
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.querySelector("#submit_next").click();
    }
  });
  // Selecting a span of lumisections on the chart appends it to the bad ranges.
  const chart = document.getElementById("run-conditions");
  if (chart && chart.on) {
    chart.on("plotly_selected", (selection) => {
      if (!selection || !selection.range || !selection.range.x) return;
      const [from, to] = selection.range.x.map((x) => Math.round(x));
      const entry = `${Math.max(1, Math.min(from, to))}-${Math.max(from, to)}`;
      ranges.value = ranges.value ? `${ranges.value}; ${entry}` : entry;
    });
  }
})();
