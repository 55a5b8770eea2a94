/* mbcpath results link: start posting the patient carried by the URL fragment (#p=...) at once, before the
 * stylesheets have loaded; app.js shows the answer when the page is ready. The fragment is never sent to
 * the server by the browser: only this POST carries it, and nothing is stored. */
(function () {
  "use strict";
  var hash = window.location.hash || "";
  /* app.js sets window.mbcpathResults to null when it ran first and posted itself */
  if (hash.indexOf("#p=") !== 0 || typeof fetch !== "function" || window.mbcpathResults !== undefined) { return; }
  var body = new URLSearchParams();
  body.append("p", hash.slice(3));
  body.append("lazy", "1");
  window.mbcpathResults = fetch("/results", { method: "POST", body: body, credentials: "same-origin",
                                              headers: { "Accept": "text/html" } })
    .then(function (r) { return r.text(); });
})();
