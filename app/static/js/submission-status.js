// Keep the status of queued and scoring submissions up to date without reloading the page.
(() => {
  const table = document.getElementById("my-submissions");
  if (!table) return;
  const pending = () => [...table.querySelectorAll("tr[data-submission]")]
    .filter((row) => row.dataset.status === "queued" || row.dataset.status === "scoring");
  let delay = 1000;

  async function poll() {
    const rows = pending();
    if (rows.length === 0) return;
    const ids = rows.map((row) => row.dataset.submission).join(",");
    try {
      const response = await fetch(`${table.dataset.statusUrl}?ids=${ids}`, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const body = await response.json();
        let changed = false;
        for (const s of body.submissions) {
          const row = table.querySelector(`tr[data-submission="${s.id}"]`);
          if (!row || row.dataset.status === s.status) continue;
          changed = true;
          row.dataset.status = s.status;
          const badge = row.querySelector('[data-field="status"]');
          badge.textContent = s.status;
          badge.className = `badge status-${s.status}`;
          row.querySelector('[data-field="error"]').textContent = s.error || "";
          // Scores as the server formats them on the page, so a poll and a reload read the same.
          row.querySelector('[data-field="public_score"]').textContent = s.shown.public_score;
          row.querySelector('[data-field="private_score"]').textContent = s.shown.private_score;
        }
        delay = changed ? 1000 : Math.min(delay * 1.5, 15000);
      }
    } catch (error) {
      delay = Math.min(delay * 2, 30000);
    }
    setTimeout(poll, delay);
  }
  setTimeout(poll, delay);
})();
