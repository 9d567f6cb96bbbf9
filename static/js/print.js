// "Print or save as PDF" links: the browser's print dialog (its "Save as PDF" makes the PDF).
// Delegated, so that links in fragments htmx swaps in later work too.
document.addEventListener("click", (event) => {
  const link = event.target.closest("[data-print]");
  if (link) { event.preventDefault(); window.print(); }
});
