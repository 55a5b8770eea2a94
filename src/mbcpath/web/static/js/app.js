/* mbcpath pages: progressive enhancement only; every page works without this file.
 * No inline scripts (the Content-Security-Policy forbids them) and no chart library: charts are SVG
 * rendered by the server. What this adds:
 *   - treatment / override rows added and removed in place;
 *   - POST-redirect-GET: the form asks the server for a redirect to /results#p=<token>, a link that
 *     carries the patient in its fragment (never sent to the server); this script posts the token back
 *     and shows the results, so results can be bookmarked, shared and reached again with Back;
 *   - projections fetched after the board view; copy link, print, JSON download. */
(function () {
  "use strict";

  function bindOnce(el, key) {
    if (el.getAttribute("data-bound-" + key)) { return false; }
    el.setAttribute("data-bound-" + key, "1");
    return true;
  }

  /* ------------------------------------------------------------------ form rows */
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
    if (!list || !tpl || !add || !bindOnce(list, "rows")) { return; }
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

  /* ------------------------------------------------------------------ patient in the URL fragment */
  function linkToken() {
    var h = window.location.hash || "";
    return h.indexOf("#p=") === 0 ? h.slice(3) : null;
  }

  function post(url, fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (k) { body.append(k, fields[k]); });
    return fetch(url, { method: "POST", body: body, credentials: "same-origin",
                        headers: { "Accept": "text/html" } });
  }

  function swapMain(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector("main");
    var main = document.querySelector("main");
    if (!fresh || !main) { return; }
    main.replaceWith(document.importNode(fresh, true));
    if (doc.title) { document.title = doc.title; }
    enhance();
    var board = document.querySelector("[data-testid=board]");
    if (board && window.performance && performance.mark) { performance.mark("mbcpath-board"); }
    var target = document.getElementById("error-summary") || document.getElementById("main");
    if (target) { target.focus({ preventScroll: true }); }
  }

  function showLoadError(root, text) {
    root.innerHTML = "";
    var box = document.createElement("div");
    box.className = "callout callout-error";
    box.setAttribute("role", "alert");
    box.textContent = text;
    root.appendChild(box);
  }

  function loadFromFragment(root, url, extra) {
    var token = linkToken();
    if (!token) {
      if (root.getAttribute("data-render")) {
        showLoadError(root, "This address carries no patient (nothing after #p=). Open the patient form to start.");
      }
      return;
    }
    var fields = { p: token };
    Object.keys(extra || {}).forEach(function (k) { fields[k] = extra[k]; });
    var pending = (url === "/results" && early) ? early : post(url, fields).then(function (r) { return r.text(); });
    early = null;
    pending.then(swapMain).catch(function () {
      showLoadError(root, "The results could not be loaded (the server did not answer). Reload to try again.");
    });
  }

  function setupFragmentPages() {
    var root = document.getElementById("results-root");
    if (root && bindOnce(root, "load")) {
      loadFromFragment(root, root.getAttribute("data-render"), { lazy: "1" });
      return;
    }
    var form = document.getElementById("patient-form");
    if (form && linkToken() && bindOnce(form, "edit")) {
      loadFromFragment(form, "/patient/edit", {});
    }
  }

  function setupPrg() {
    /* The server answers these forms with a redirect to /results#p=... only when asked (no JS: results inline). */
    document.querySelectorAll("input[data-prg]").forEach(function (el) { el.value = "1"; });
    document.querySelectorAll("form[data-edit-link]").forEach(function (f) {
      if (!bindOnce(f, "edit")) { return; }
      f.addEventListener("submit", function (ev) {
        ev.preventDefault();
        window.location.assign(f.getAttribute("data-edit-link"));
      });
    });
  }

  function setupLazy() {
    var head = document.querySelector(".results-head[data-token]");
    document.querySelectorAll("[data-lazy]").forEach(function (slot) {
      if (!head || !bindOnce(slot, "lazy")) { return; }
      post(slot.getAttribute("data-lazy"), { p: head.getAttribute("data-token") })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          slot.innerHTML = html;
          slot.removeAttribute("aria-busy");
          slot.setAttribute("data-loaded", "true");
        })
        .catch(function () { slot.textContent = "The projections could not be loaded."; });
    });
  }

  /* ------------------------------------------------------------------ in-page links open collapsed sections */
  function openTarget() {
    var id = decodeURIComponent((window.location.hash || "").slice(1));
    if (!id || id.indexOf("p=") === 0) { return; }
    var el = document.getElementById(id);
    for (var node = el; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
  }

  function setupAnchors() {
    if (!bindOnce(document.body, "anchors")) { return; }
    window.addEventListener("hashchange", openTarget);
    document.body.addEventListener("click", function (ev) {
      var a = ev.target.closest("a[href^='#']");
      if (!a) { return; }
      var el = document.getElementById(a.getAttribute("href").slice(1));
      for (var node = el; node; node = node.parentElement) {
        if (node.tagName === "DETAILS") { node.open = true; }
      }
    });
    openTarget();
  }

  /* ------------------------------------------------------------------ buttons */
  function status(text) {
    var s = document.querySelector("[data-testid=action-status]");
    if (s) { s.textContent = text; }
  }

  function setupActions() {
    document.querySelectorAll("[data-action='print']").forEach(function (b) {
      if (bindOnce(b, "act")) { b.addEventListener("click", function () { window.print(); }); }
    });
    document.querySelectorAll("[data-action='copy-link']").forEach(function (b) {
      if (!bindOnce(b, "act")) { return; }
      b.addEventListener("click", function () {
        var head = document.querySelector(".results-head[data-token]");
        if (!head) { return; }
        var url = window.location.origin + "/results#p=" + head.getAttribute("data-token");
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(url).then(function () { status("Link copied: it carries the patient; share it only as you would the record."); },
                                                   function () { status(url); });
        } else { status(url); }
      });
    });
    var summary = document.getElementById("error-summary");
    if (summary && bindOnce(summary, "focus")) { summary.focus(); }
    document.querySelectorAll("form.report-form").forEach(function (f) {
      if (!bindOnce(f, "report")) { return; }
      f.addEventListener("submit", function () { status("Preparing the report…"); });
    });
  }

  function setupResultsUrl() {
    /* Results rendered in a POST response (no redirect) still get their shareable address. */
    var head = document.querySelector(".results-head[data-token]");
    if (head && window.location.pathname !== "/results" && window.history && history.replaceState) {
      history.replaceState(null, "", "/results#p=" + head.getAttribute("data-token"));
    }
  }

  /* A results link: post its patient at once. On that page this file loads async, so the request starts
   * before the stylesheets have arrived; the answer is shown when the page is ready (init). */
  var early = null;
  if (window.location.pathname === "/results" && linkToken() && typeof fetch === "function") {
    early = post("/results", { p: linkToken(), lazy: "1" }).then(function (r) { return r.text(); });
  }

  function enhance() {
    setupPrg();
    setupRows("treatment-rows", "treatment-row-template", "add-row", "treatment", "no-rows");
    setupRows("override-rows", "override-row-template", "add-override", "override", null);
    setupActions();
    setupAnchors();
    setupLazy();
    setupResultsUrl();
  }

  function init() {
    enhance();
    setupFragmentPages();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
