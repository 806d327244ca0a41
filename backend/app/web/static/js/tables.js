// Every table of the page as stacked cards on a phone (app.css, "tables on a phone"): each cell
// carries its column's name in `data-label`, which the narrow layout shows before the value.
// Done here once for every table any view draws, whenever it draws one.

function labelCells(table) {
  const headers = [...table.querySelectorAll(":scope > thead > tr:last-child > th")].map((th) =>
    th.textContent.trim(),
  );
  for (const row of table.querySelectorAll(":scope > tbody > tr")) {
    let column = 0;
    for (const cell of row.cells) {
      const label = headers[column] || "";
      if (cell.dataset.label !== label) {
        if (label) cell.dataset.label = label;
        else delete cell.dataset.label;
      }
      column += cell.colSpan || 1;
    }
  }
}

// Between the phone's cards and a wide window a table may still be wider than its box: it
// scrolls sideways, and its box says so (app.css draws a shadow at the edge).
function markScrolling(wrap) {
  wrap.toggleAttribute("data-scrolls", wrap.scrollWidth > wrap.clientWidth + 1);
}

/** Label the cells of every table under `root`, now and whenever its content changes. */
export function stackTables(root) {
  const update = () => {
    root.querySelectorAll("table").forEach(labelCells);
    root.querySelectorAll(".table-wrap").forEach(markScrolling);
  };
  new MutationObserver(update).observe(root, { childList: true, subtree: true });
  window.addEventListener("resize", update);
  update();
}
