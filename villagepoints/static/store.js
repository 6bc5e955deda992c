// The points store counter: live total and remaining balance, +/- buttons, one submit,
// household search that loads at once, and the receipt's print button.
// No framework and no CDN; every form still works without this script.
(function () {
  "use strict";

  function each(root, selector, fn) {
    Array.prototype.forEach.call(root.querySelectorAll(selector), fn);
  }

  function quantity(input) {
    var n = parseInt(input.value, 10);
    return isNaN(n) || n < 0 ? 0 : n;
  }

  function setupCounter(form) {
    var balance = parseInt(form.getAttribute("data-balance"), 10) || 0;
    var rows = form.querySelectorAll("tr[data-item]");
    var total = form.querySelector("[data-total]");
    var remaining = form.querySelector("[data-remaining]");
    var shortNote = form.querySelector("[data-short-note]");
    var shortBy = form.querySelector("[data-short]");
    var live = form.querySelector("[data-live]");
    var confirm = form.querySelector("[data-confirm]");

    function update() {
      var sum = 0;
      var count = 0;
      Array.prototype.forEach.call(rows, function (row) {
        var input = row.querySelector("input.qty-input");
        var n = input && !input.disabled ? quantity(input) : 0;
        var points = n * (parseInt(row.getAttribute("data-price"), 10) || 0);
        var cell = row.querySelector("[data-subtotal]");
        if (cell) cell.textContent = n ? String(points) : "";
        row.classList.toggle("chosen", n > 0);
        sum += points;
        count += n;
      });
      var left = balance - sum;
      if (total) total.textContent = String(sum);
      if (remaining) {
        remaining.textContent = String(left);
        remaining.classList.toggle("short", left < 0);
      }
      if (shortNote) shortNote.hidden = left >= 0;
      if (shortBy) shortBy.textContent = String(left < 0 ? -left : 0);
      if (live) {
        live.textContent = count ? "共 " + count + " 件，" + sum + " 分，兑换后剩余 " + left + " 分" : "请填写要兑换的数量";
      }
      // The server refuses these too; greying the button saves a round trip at a busy counter.
      if (confirm) confirm.disabled = count === 0 || left < 0;
    }

    each(form, "td.qty", function (cell) {
      var input = cell.querySelector("input.qty-input");
      if (!input || input.disabled) return;
      var max = parseInt(input.getAttribute("max"), 10);
      function button(step, text, label) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "secondary step";
        b.textContent = text;
        b.setAttribute("aria-label", label);
        b.addEventListener("click", function () {
          var n = quantity(input) + step;
          if (n < 0) n = 0;
          if (!isNaN(max) && n > max) n = max;
          input.value = n ? String(n) : "";
          update();
        });
        return b;
      }
      var name = cell.parentNode.querySelector("label");
      var what = name ? name.textContent : "";
      cell.insertBefore(button(-1, "−", "减少" + what), input);
      cell.insertBefore(button(1, "+", "增加" + what), input.nextSibling);
    });

    form.addEventListener("input", update);
    form.addEventListener("keydown", function (event) {
      // Enter on a tablet's number pad must not redeem before the list is complete.
      if (event.key === "Enter" && event.target.classList.contains("qty-input")) {
        event.preventDefault();
        event.target.blur();
      }
    });
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sent")) {
        event.preventDefault();
        return;
      }
      form.setAttribute("data-sent", "1");
      // Disabled after the browser has read the pressed button's name and value.
      setTimeout(function () { if (confirm) confirm.disabled = true; }, 0);
    });
    each(form, "[data-no-js]", function (el) { el.hidden = true; });
    update();
  }

  function setupFind(form) {
    var input = form.querySelector("[data-lookup]");
    var label = input && document.getElementById(input.getAttribute("data-label"));
    if (!label) return;
    // entry.js fills the label when a household is picked from its list; load it at once.
    new MutationObserver(function () {
      if (label.textContent.trim() && input.value.trim()) form.submit();
    }).observe(label, { childList: true, characterData: true, subtree: true });
  }

  each(document, "form[data-counter]", setupCounter);
  each(document, "form[data-find-household]", setupFind);
  each(document, "[data-print]", function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  // Tells a waiting test (or a curious person) that this script has set the page up.
  var root = document.documentElement;
  root.dataset.ready = ((root.dataset.ready || "") + " store").trim();
})();
