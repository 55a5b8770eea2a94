/* mbcpath pages: progressive enhancement only. Every page works without this file.
 * No inline scripts (the Content-Security-Policy forbids them); data for charts comes from
 * <script type="application/json"> blocks, which are never executed. */
(function () {
  "use strict";

  function renumber(list, word) {
    var rows = list.querySelectorAll(":scope > li.row");
    rows.forEach(function (li, n) {
      var num = li.querySelector(".row-num");
      if (num) { num.textContent = String(n + 1); }
      var rm = li.querySelector(".btn-remove");
      if (rm) { rm.setAttribute("aria-label", "Remove " + word + " " + (n + 1)); }
    });
    return rows.length;
  }

  function setupRows(listId, templateId, addId, word, emptyId) {
    var list = document.getElementById(listId);
    var tpl = document.getElementById(templateId);
    var add = document.getElementById(addId);
    if (!list || !tpl || !add) { return; }
    var empty = emptyId ? document.getElementById(emptyId) : null;

    function refresh() {
      var n = renumber(list, word);
      if (empty) { empty.hidden = n > 0; }
    }

    add.addEventListener("click", function (ev) {
      ev.preventDefault();
      var idx = parseInt(list.getAttribute("data-next-index") || "0", 10);
      list.setAttribute("data-next-index", String(idx + 1));
      var html = tpl.innerHTML.split("__i__").join(String(idx));
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var li = holder.firstElementChild;
      list.appendChild(li);
      refresh();
      var first = li.querySelector("input, select");
      if (first) { first.focus(); }
    });

    list.addEventListener("click", function (ev) {
      var btn = ev.target.closest(".btn-remove");
      if (!btn || !list.contains(btn)) { return; }
      ev.preventDefault();
      var li = btn.closest("li.row");
      var prev = li.previousElementSibling;
      li.remove();
      refresh();
      var target = prev ? prev.querySelector("input, select") : add;
      if (target) { target.focus(); }
    });
  }

  function renderCharts() {
    var charts = document.querySelectorAll(".chart[data-figure]");
    if (!charts.length) { return; }
    charts.forEach(function (el) {
      var src = document.getElementById(el.getAttribute("data-figure"));
      if (!src) { return; }
      if (typeof window.Plotly === "undefined") {
        el.textContent = "The chart needs plotly.min.js, which is not available; the data table below shows the same values.";
        return;
      }
      var fig;
      try { fig = JSON.parse(src.textContent); } catch (e) { return; }
      var layout = fig.layout || {};
      layout.autosize = true;
      window.Plotly.newPlot(el, fig.data || [], layout, {
        responsive: true, displaylogo: false,
        modeBarButtonsToRemove: ["select2d", "lasso2d"]
      }).then(function () { el.setAttribute("data-rendered", "true"); });
    });
  }

  function setupActions() {
    document.querySelectorAll("[data-action='print']").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
    document.querySelectorAll("[data-action='download']").forEach(function (b) {
      b.addEventListener("click", function () {
        var src = document.getElementById(b.getAttribute("data-source"));
        if (!src) { return; }
        var blob = new Blob([JSON.stringify(JSON.parse(src.textContent), null, 2)], { type: "application/json" });
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = b.getAttribute("data-filename") || "mbcpath.json";
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
      });
    });
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  }

  function setupPrint() {
    /* Print every collapsed <details> (criteria, facts) open, then restore. */
    var opened = [];
    window.addEventListener("beforeprint", function () {
      document.querySelectorAll("details:not([open])").forEach(function (d) { d.open = true; opened.push(d); });
    });
    window.addEventListener("afterprint", function () {
      opened.forEach(function (d) { d.open = false; });
      opened = [];
    });
  }

  function init() {
    setupPrint();
    setupRows("treatment-rows", "treatment-row-template", "add-row", "treatment", "no-rows");
    setupRows("override-rows", "override-row-template", "add-override", "override", null);
    setupActions();
    renderCharts();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
