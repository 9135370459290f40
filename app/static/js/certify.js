// Keyboard shortcuts and chart selection of the certification page.
//   b: bad lumisections field   c: comment   k: tick every checklist   a: approve (shift leaders)
//   s: accept the next source's suggested ranges (each source also has its button)
//   Esc: leave a field           Ctrl+Enter: certify and open the next run
(() => {
  const form = document.getElementById("certify-form");
  const approve = document.getElementById("approve");
  const accepted = form && form.querySelector("#accepted");
  const acceptedSources = new Set();

  // A source's suggested ranges go into the bad ranges, and into the hidden "accepted" field that tells the
  // server which source they came from (it decides whether the shifter kept or edited them).
  const accept = (item) => {
    if (!form || !item) return;
    const field = form.querySelector("#bad_ranges");
    const sourceId = item.dataset.sourceId;
    const typed = field.value.split(";").map((entry) => entry.trim().split(/\s+/)[0]);
    const entries = JSON.parse(item.dataset.ranges).map(([first, last]) => `${first}-${last}`);
    const added = entries.filter((entry) => !typed.includes(entry));
    if (added.length) field.value = [field.value.trim(), ...added].filter(Boolean).join("; ");
    const marks = entries.map((entry) => `${sourceId}:${entry}`);
    const known = accepted.value.split(";").map((mark) => mark.trim()).filter(Boolean);
    accepted.value = [...known, ...marks.filter((mark) => !known.includes(mark))].join("; ");
    acceptedSources.add(sourceId);
  };
  const sources = () => Array.from(document.querySelectorAll('[data-testid="source"]'))
    .filter((item) => item.querySelector("[data-accept-source]"));
  document.querySelectorAll("[data-accept-source]").forEach((button) => {
    button.addEventListener("click", () => accept(button.closest('[data-testid="source"]')));
  });

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
      s: () => accept(sources().find((item) => !acceptedSources.has(item.dataset.sourceId))),
    };
    if (actions[event.key]) {
      event.preventDefault();
      actions[event.key]();
    }
  });

  // Selecting a span of lumisections on a chart appends it to the bad ranges: the conditions chart here, the
  // monitoring elements' trends (js/elements.js) through window.Certify.addSelectedSpan.
  const addSelectedSpan = (selection) => {
    if (!form || !selection || !selection.range || !selection.range.x) return;
    const ranges = form.querySelector("#bad_ranges");
    const [from, to] = selection.range.x.map((x) => Math.round(x));
    const entry = `${Math.max(1, Math.min(from, to))}-${Math.max(from, to)}`;
    ranges.value = ranges.value ? `${ranges.value}; ${entry}` : entry;
  };
  window.Certify = { addSelectedSpan };
  const chart = document.getElementById("run-conditions");
  if (chart && chart.on) chart.on("plotly_selected", addSelectedSpan);
})();
