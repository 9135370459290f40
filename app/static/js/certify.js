// Keyboard shortcuts and chart selection of the certification page.
//   b: bad lumisections field   c: comment   k: tick every checklist   a: approve (shift leaders)
//   Esc: leave a field           Ctrl+Enter: certify and open the next run
(() => {
  const form = document.getElementById("certify-form");
  const approve = document.getElementById("approve");
  const typing = (element) => element && ["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName);

  document.addEventListener("keydown", (event) => {
    if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      (form.querySelector("#submit_next") || form.querySelector("#submit")).click();
      return;
    }
    if (event.key === "Escape" && typing(document.activeElement)) {
      document.activeElement.blur();
      return;
    }
    if (typing(document.activeElement) || event.ctrlKey || event.metaKey || event.altKey) return;
    const actions = {
      b: () => form && form.querySelector("#bad_ranges").focus(),
      c: () => form && form.querySelector("#comment").focus(),
      k: () => form && form.querySelectorAll('input[name="checklist"]').forEach((box) => { box.checked = true; }),
      a: () => approve && approve.click(),
    };
    if (actions[event.key]) {
      event.preventDefault();
      actions[event.key]();
    }
  });

  // Selecting a span of lumisections on the chart appends it to the bad ranges.
  const chart = document.getElementById("run-conditions");
  if (form && chart && chart.on) {
    const ranges = form.querySelector("#bad_ranges");
    chart.on("plotly_selected", (selection) => {
      if (!selection || !selection.range || !selection.range.x) return;
      const [from, to] = selection.range.x.map((x) => Math.round(x));
      const entry = `${Math.max(1, Math.min(from, to))}-${Math.max(from, to)}`;
      ranges.value = ranges.value ? `${ranges.value}; ${entry}` : entry;
    });
  }
})();
