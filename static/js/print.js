// "Print or save as PDF" links: the browser's print dialog (its "Save as PDF" makes the PDF).
document.querySelectorAll("[data-print]").forEach((link) => {
  link.addEventListener("click", (event) => { event.preventDefault(); window.print(); });
});
