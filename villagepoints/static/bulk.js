// Bulk entry (templates/entries/bulk.html): filter the household checklist by name, pinyin
// initials, code and group; tick every shown household; keep "已选 N 户" true. Ticks survive
// filtering, so one entry can mix groups. Without the script the whole list is shown.
(function () {
  "use strict";

  var form = document.querySelector("form[data-bulk]");
  if (form) {
    var items = Array.prototype.slice.call(form.querySelectorAll("ul.checklist li"));
    var search = form.querySelector("#household-filter");
    var group = form.querySelector("#household-group");
    var all = form.querySelector("[data-bulk-all]");
    var shown = form.querySelector("[data-bulk-shown]");
    var none = form.querySelector("[data-bulk-none]");
    var counts = form.querySelectorAll("[data-bulk-count]");

    var box = function (li) { return li.querySelector("input[type=checkbox]"); };
    var visible = function () { return items.filter(function (li) { return !li.hidden; }); };

    var count = function () {
      var ticked = form.querySelectorAll("input[name=households]:checked").length;
      Array.prototype.forEach.call(counts, function (el) { el.textContent = String(ticked); });
      var seen = visible();
      if (all) all.checked = seen.length > 0 && seen.every(function (li) { return box(li).checked; });
    };

    var filter = function () {
      var q = search ? search.value.trim().toLowerCase() : "";
      var g = group ? group.value : "";
      items.forEach(function (li) {
        li.hidden = (g !== "" && li.getAttribute("data-group") !== g) ||
          (q !== "" && li.getAttribute("data-search").toLowerCase().indexOf(q) < 0);
      });
      var n = visible().length;
      if (shown) shown.textContent = String(n);
      if (none) none.hidden = n > 0;
      count();
    };

    Array.prototype.forEach.call(form.querySelectorAll("[data-bulk-only]"), function (el) { el.hidden = false; });
    if (search) search.addEventListener("input", filter);
    if (group) group.addEventListener("change", filter);
    if (all) {
      all.addEventListener("change", function () {
        visible().forEach(function (li) { box(li).checked = all.checked; });
        count();
      });
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === "households") count();
    });
    // Enter in the search box filters; it must not submit the entry.
    if (search) {
      search.addEventListener("keydown", function (event) {
        if (event.key === "Enter") event.preventDefault();
      });
    }
    filter();
  }

  document.documentElement.dataset.ready = ((document.documentElement.dataset.ready || "") + " bulk").trim();
})();
