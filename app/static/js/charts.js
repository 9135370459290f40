// Draw every element carrying a Plotly figure in its data-figure attribute.
document.querySelectorAll("[data-figure]").forEach((element) => {
  const figure = JSON.parse(element.dataset.figure);
  if (!figure.data || figure.data.length === 0) {
    element.style.height = "auto";
    element.innerHTML = '<p class="text-muted small">No scored submission to chart yet.</p>';
    return;
  }
  Plotly.newPlot(element, figure.data, figure.layout, { responsive: true, displaylogo: false });
});
