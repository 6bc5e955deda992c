// The points pages: household search list, rule defaults, "select all" with a count.
// No framework and no CDN: cheap phones, weak signal. Every form still works without it.
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function setupLookup(input) {
    var url = input.getAttribute("data-lookup");
    var label = document.getElementById(input.getAttribute("data-label"));
    var list = document.createElement("ul");
    var rows = [];
    var active = -1;
    var asked = 0;
    list.className = "suggestions";
    list.id = input.id + "-suggestions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    input.parentNode.insertBefore(list, input.nextSibling);
    input.setAttribute("autocomplete", "off");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");

    function close() {
      list.hidden = true;
      list.innerHTML = "";
      rows = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
    }

    function describe(row) {
      return row.head_name + "（" + row.code + (row.group ? " · " + row.group : "") + "）";
    }

    function choose(row) {
      input.value = row.code;
      if (label) label.textContent = describe(row);
      close();
    }

    function highlight(index) {
      var items = list.querySelectorAll("li[data-index]");
      active = index;
      for (var i = 0; i < items.length; i++) {
        items[i].className = i === index ? "active" : "";
        items[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
    }

    function show(found, refusal) {
      list.innerHTML = "";
      rows = found;
      active = -1;
      if (!found.length) {
        var none = document.createElement("li");
        none.className = "none";
        none.textContent = refusal || "没有找到在册农户";
        list.appendChild(none);
      }
      found.forEach(function (row, i) {
        var item = document.createElement("li");
        item.setAttribute("role", "option");
        item.setAttribute("data-index", String(i));
        item.textContent = describe(row);
        // mousedown, not click: it fires before the input's blur closes the list.
        item.addEventListener("mousedown", function (event) {
          event.preventDefault();
          choose(row);
        });
        list.appendChild(item);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    var search = debounce(function () {
      var q = input.value.trim();
      if (!q) {
        close();
        return;
      }
      var mine = ++asked;
      fetch(url + "?q=" + encodeURIComponent(q), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          // 429: too many searches by ID or phone digits; the answer says how long to wait.
          if (response.status === 429) return response.json();
          return response.ok ? response.json() : [];
        })
        .then(function (found) {
          // A slow answer to an older query must not replace a newer one.
          if (mine !== asked) return;
          if (Array.isArray(found)) show(found);
          else show([], found && found.error);
        })
        .catch(function () { /* offline: the typed code is still submitted */ });
    }, 200);

    input.addEventListener("input", function () {
      if (label) label.textContent = "";
      search();
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden || !rows.length) return;
      if (event.key === "ArrowDown") {
        event.preventDefault();
        highlight((active + 1) % rows.length);
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight((active - 1 + rows.length) % rows.length);
      } else if (event.key === "Enter") {
        event.preventDefault();
        choose(rows[active >= 0 ? active : 0]);
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    // On a slow phone the clerk may have typed before this script arrived: search for it
    // now, unless the value is a household the page already chose (its label is filled).
    if (input.value.trim() && !(label && label.textContent.trim()) && document.activeElement === input) search();
  }

  function setupRule(select) {
    var points = document.getElementById(select.getAttribute("data-points"));
    var hint = document.getElementById(select.getAttribute("data-hint"));

    function update(fill) {
      var option = select.options[select.selectedIndex];
      if (!option || !option.value) {
        if (hint) hint.textContent = "";
        return;
      }
      var low = option.getAttribute("data-min");
      var high = option.getAttribute("data-max");
      if (points) {
        if (fill) points.value = option.getAttribute("data-default");
        points.min = low;
        points.max = high;
      }
      if (hint) {
        hint.textContent = "分值范围 " + low + " 到 " + high +
          (option.getAttribute("data-evidence") ? "；此细则需要上传照片" : "");
      }
    }

    select.addEventListener("change", function () { update(true); });
    update(false);
  }

  function setupCheckAll(toggle) {
    var form = toggle.form;
    var name = toggle.getAttribute("data-check-all");
    var counter = form.querySelector("[data-count]");

    function boxes() {
      return form.querySelectorAll('input[type=checkbox][name="' + name + '"]:not(:disabled)');
    }

    function count() {
      var all = boxes();
      var ticked = 0;
      for (var i = 0; i < all.length; i++) if (all[i].checked) ticked++;
      if (counter) counter.textContent = String(ticked);
      toggle.checked = all.length > 0 && ticked === all.length;
    }

    toggle.addEventListener("change", function () {
      var all = boxes();
      for (var i = 0; i < all.length; i++) all[i].checked = toggle.checked;
      count();
    });
    form.addEventListener("change", function (event) {
      if (event.target !== toggle && event.target.name === name) count();
    });
    count();
  }

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  each("[data-lookup]", setupLookup);
  each("select[data-points]", setupRule);
  each("input[data-check-all]", setupCheckAll);
  each("select[data-autosubmit]", function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  each("[data-js-only]", function (el) { el.hidden = false; });
  markReady("entry");

  // Tells a waiting test (or a curious person) that this script has set the page up.
  function markReady(name) {
    var root = document.documentElement;
    root.dataset.ready = ((root.dataset.ready || "") + " " + name).trim();
  }
})();
