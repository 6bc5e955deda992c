// Tables whose rows open a page (tr[data-href]): a tap anywhere on the row opens it, which is
// what a phone user expects of a card. Links, buttons and inputs inside keep their own action;
// without the script each row still has its own link.
(function () {
  "use strict";

  Array.prototype.forEach.call(document.querySelectorAll("tr[data-href]"), function (row) {
    row.classList.add("row-link");
    row.addEventListener("click", function (event) {
      if (event.target.closest("a, button, input, select, label, textarea")) return;
      // Selecting text to copy it is not a tap.
      if (window.getSelection && String(window.getSelection())) return;
      window.location.assign(row.getAttribute("data-href"));
    });
  });

  document.documentElement.dataset.ready = ((document.documentElement.dataset.ready || "") + " rows").trim();
})();
