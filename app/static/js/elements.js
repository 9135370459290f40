// The monitoring elements of the certification page (templates/certification/_elements.html).
//   Each card's trend along the run is fetched and drawn when the card first comes into view, never before.
//   Clicking a lumisection on any chart selects it: the cards in view show it beside the reference the server
//   picks (services/certification/references.py), shares of entries so that shapes compare; [ and ] step.
//   Selecting a span on a trend adds it to the bad ranges, as on the conditions chart (js/certify.js).
(() => {
  const section = document.getElementById("monitoring-elements");
  if (!section || !window.Plotly) return;
  const cards = Array.from(section.querySelectorAll("[data-element]"));
  if (!cards.length) return;
  const first = Number(section.dataset.first);
  const last = Number(section.dataset.last);
  const shading = JSON.parse(section.dataset.shapes || "[]");
  const label = section.querySelector('[data-testid="selected-lumisection"]');
  const referenceField = document.querySelector("#certify-form #reference_run");
  const config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d"] };
  const margin = { l: 55, r: 10, t: 10, b: 35 };
  const drawn = new Map(); // card -> its trend's div, once drawn
  const shown = new Map(); // card -> the lumisection its comparison shows or is fetching
  const inView = new Set();
  let selected = null;
  let pending = null;

  const part = (card, role) => card.querySelector(`[data-role="${role}"]`);
  const say = (element, text) => {
    element.textContent = text;
  };
  const marker = (lumisection) => ({
    type: "line", xref: "x", yref: "paper", x0: lumisection, x1: lumisection, y0: 0, y1: 1,
    line: { color: "#0d6efd", width: 2 },
  });
  const shapes = () => (selected === null ? shading : [...shading, marker(selected)]);
  const trendAxis = { title: { text: "lumisection" }, range: [first - 0.5, last + 0.5] };

  const figure1D = (trend) => ({
    data: [{
      type: "heatmap", x: trend.lumisections, y: trend.x_edges, z: trend.shares,
      colorscale: "Viridis", zmin: 0, colorbar: { thickness: 8, title: { text: "share", side: "right" } },
      hovertemplate: "LS %{x}<br>x %{y}<br>share %{z:.3g}<extra></extra>",
    }],
    layout: { margin, xaxis: trendAxis, yaxis: { title: { text: "x" } } },
  });
  const figure2D = (trend) => ({
    data: [
      { type: "scatter", mode: "lines", name: "occupied fraction", x: trend.lumisections, y: trend.occupancy },
      { type: "scatter", mode: "lines", name: "mean", x: trend.lumisections, y: trend.mean, yaxis: "y3",
        line: { dash: "dot" } },
      { type: "scatter", mode: "lines", name: "entries", x: trend.lumisections, y: trend.entries, yaxis: "y2" },
      ...["mean_x", "mean_y"].map((key) => ({ type: "scatter", mode: "lines", name: key.replace("_", " "),
        x: trend.lumisections, y: trend[key], yaxis: "y4", visible: "legendonly" })),
    ],
    layout: {
      margin: { ...margin, r: 55 }, xaxis: { ...trendAxis, domain: [0, 0.92] },
      yaxis: { title: { text: "occupied fraction" }, rangemode: "tozero" },
      yaxis2: { title: { text: "entries" }, overlaying: "y", side: "right", anchor: "x", rangemode: "tozero" },
      yaxis3: { overlaying: "y", side: "right", position: 1, showticklabels: false, rangemode: "tozero" },
      yaxis4: { overlaying: "y", side: "right", position: 1, showticklabels: false },
      legend: { orientation: "h", y: 1.15 },
    },
  });

  const draw = async (card) => {
    const target = part(card, "trend");
    try {
      const response = await fetch(card.dataset.trendUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(`the trend did not load (${response.status})`);
      const trend = await response.json();
      const { data, layout } = trend.dimension === 1 ? figure1D(trend) : figure2D(trend);
      await Plotly.newPlot(target, data, {
        ...layout, hovermode: "closest", dragmode: "select", selectdirection: "h", shapes: shapes(),
      }, config);
    } catch (error) {
      say(target, error.message);
      return;
    }
    target.on("plotly_click", (event) => event && event.points && event.points.length && select(event.points[0].x));
    target.on("plotly_selected", (selection) => window.Certify && window.Certify.addSelectedSpan(selection));
    drawn.set(card, target);
    card.dataset.drawn = "true";
    if (selected !== null && inView.has(card)) compare(card);
  };

  const compareFigure = (answer) => {
    const mine = answer.lumisection;
    const reference = answer.reference;
    const theirs = reference && reference.histogram;
    const name = reference ? `run ${reference.run_number} LS ${reference.lumisection}` : "";
    if (answer.dimension === 1) {
      const centres = mine.x_edges.slice(1).map((edge, i) => (edge + mine.x_edges[i]) / 2);
      const data = [{ type: "scatter", mode: "lines", line: { shape: "hvh" }, name: `LS ${mine.lumisection}`,
        x: centres, y: mine.shares }];
      if (theirs) {
        data.push({ type: "scatter", mode: "lines", line: { shape: "hvh", dash: "dash", color: "#6c757d" }, name,
          x: centres, y: theirs.shares });
      }
      return { data, layout: { margin, xaxis: { title: { text: "x" } }, yaxis: { title: { text: "share" } },
        legend: { orientation: "h", y: 1.15 } } };
    }
    const map = (histogram, axis) => ({ type: "heatmap", x: histogram.x_edges, y: histogram.y_edges, z: histogram.shares,
      coloraxis: "coloraxis", xaxis: `x${axis}`, yaxis: `y${axis}`,
      hovertemplate: "x %{x}<br>y %{y}<br>share %{z:.3g}<extra></extra>" });
    const data = [map(mine, "")];
    if (theirs) data.push(map(theirs, "2"));
    const title = (text, x) => ({ text, x, y: 1.02, xref: "paper", yref: "paper", showarrow: false, xanchor: "center",
      yanchor: "bottom" });
    return { data, layout: {
      margin: { ...margin, t: 22 }, coloraxis: { colorscale: "Viridis", cmin: 0, colorbar: { thickness: 8 } },
      xaxis: { domain: [0, 0.46] }, yaxis: { anchor: "x" },
      xaxis2: { domain: [0.54, 1] }, yaxis2: { anchor: "x2" },
      annotations: [title(`LS ${mine.lumisection}`, 0.23), ...(theirs ? [title(name, 0.77)] : [])],
    } };
  };

  const compare = async (card) => {
    const lumisection = selected;
    if (lumisection === null || shown.get(card) === lumisection) return;
    shown.set(card, lumisection);
    const text = part(card, "reference");
    const target = part(card, "compare");
    const query = new URLSearchParams({ lumisection });
    const chosen = referenceField && referenceField.value.trim();
    if (chosen && /^\d+$/.test(chosen)) query.set("reference", chosen);
    let answer;
    try {
      const response = await fetch(`${card.dataset.compareUrl}?${query}`, { headers: { Accept: "application/json" } });
      answer = await response.json();
      if (!response.ok) throw new Error((answer.error && answer.error.message) || `status ${response.status}`);
    } catch (error) {
      if (shown.get(card) !== lumisection) return;
      say(text, `LS ${lumisection}: ${error.message}`);
      target.classList.add("d-none");
      return;
    }
    if (shown.get(card) !== lumisection) return; // another lumisection was selected meanwhile
    const reference = answer.reference;
    say(text, reference ? `LS ${lumisection} beside ${reference.description}` : `LS ${lumisection}: no lumisection to compare with`);
    target.classList.remove("d-none");
    const { data, layout } = compareFigure(answer);
    Plotly.react(target, data, { ...layout, hovermode: "closest" }, config);
  };

  const compareInView = () => {
    pending = null;
    inView.forEach((card) => drawn.has(card) && compare(card));
  };

  // The page's own charts are marked too: their shapes as drawn, with the selected lumisection's line.
  const pageCharts = ["run-conditions", "suggestion-scores"]
    .map((id) => document.getElementById(id))
    .filter((chart) => chart && chart.on && chart.layout);
  const pageShapes = new Map(pageCharts.map((chart) => [chart, chart.layout.shapes || []]));

  const select = (lumisection) => {
    const number = Math.min(last, Math.max(first, Math.round(Number(lumisection))));
    if (!Number.isFinite(number) || number === selected) return;
    selected = number;
    say(label, `LS ${number}`);
    section.dataset.selected = String(number);
    drawn.forEach((target) => Plotly.relayout(target, { shapes: shapes() }));
    pageShapes.forEach((base, chart) => Plotly.relayout(chart, { shapes: [...base, marker(number)] }));
    // Stepping with [ and ] held down asks the server once it pauses, not for every lumisection passed.
    if (pending) clearTimeout(pending);
    pending = setTimeout(compareInView, 120);
  };
  pageCharts.forEach((chart) => chart.on("plotly_click", (event) => {
    if (event && event.points && event.points.length) select(event.points[0].x);
  }));

  const typing = (element) => element && (["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName)
    || element.isContentEditable);
  document.addEventListener("keydown", (event) => {
    if (typing(document.activeElement) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key !== "[" && event.key !== "]") return;
    event.preventDefault();
    const step = event.key === "]" ? 1 : -1;
    select(selected === null ? (step > 0 ? first : last) : selected + step);
  });

  const observer = new IntersectionObserver((entries) => {
    entries.forEach((entry) => {
      const card = entry.target;
      if (!entry.isIntersecting) {
        inView.delete(card);
        return;
      }
      inView.add(card);
      if (!card.dataset.requested) {
        card.dataset.requested = "true";
        draw(card);
      } else if (drawn.has(card) && selected !== null) {
        compare(card);
      }
    });
  }, { rootMargin: "150px 0px" });
  cards.forEach((card) => observer.observe(card));
})();
