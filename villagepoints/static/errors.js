// The error summary of a refused form (templates/macros.html error_summary): brought into view
// and focused when the page opens, so a phone or a screen reader starts at what went wrong; its
// links focus their field and scroll its label into view rather than only jumping to it.
(function () {
  "use strict";

  var FOCUSABLE = "input:not([type=hidden]), select, textarea, button";

  function focusField(id) {
    var el = document.getElementById(id);
    if (!el) return false;
    var control = el.matches(FOCUSABLE) ? el : el.querySelector(FOCUSABLE);
    var label = document.querySelector("label[for='" + id + "']") || el.closest("fieldset") || el;
    label.scrollIntoView({ block: "start" });
    if (control) control.focus({ preventScroll: true });
    return true;
  }

  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.scrollIntoView({ block: "start" });
    summary.focus({ preventScroll: true });
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (link && focusField(decodeURIComponent(link.getAttribute("href").slice(1)))) {
        event.preventDefault();
      }
    });
  }

  document.documentElement.dataset.ready = ((document.documentElement.dataset.ready || "") + " errors").trim();
})();
