// fuwu's only script: small progressive enhancements. Every page works without it.
(function () {
  "use strict";
  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  // htmx requests carry the CSRF token in a header (forms also carry it in a field).
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrf();
  });
  // A select marked data-autosubmit (the language switcher) submits its form on change.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("[data-autosubmit]")) { el.form.requestSubmit ? el.form.requestSubmit() : el.form.submit(); }
  });
  // Confirm dangerous actions: <button data-confirm="...">
  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("[data-confirm]") : null;
    if (el && !window.confirm(el.getAttribute("data-confirm"))) { event.preventDefault(); event.stopPropagation(); }
  }, true);
  // Print buttons: <button data-print>
  document.addEventListener("click", function (event) {
    var el = event.target.closest ? event.target.closest("[data-print]") : null;
    if (el) { event.preventDefault(); window.print(); }
  });
  // A boosted navigation swaps only <body>: carry the new page's language over to
  // <html lang> (screen readers and the Traditional Chinese font rule read it).
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.boosted || !event.detail.xhr) { return; }
    var match = /<html[^>]*\slang="([^"]*)"/i.exec(event.detail.xhr.responseText || "");
    if (match) { document.documentElement.setAttribute("lang", match[1]); }
  });
  // "/" anywhere but in a field jumps to the search box at the top, as in most web apps.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) { return; }
    var box = document.getElementById("find-q");
    if (box) { event.preventDefault(); box.focus(); }
  });
  // Let htmx swap error pages (4xx with a body, and a 500's page with its request id) instead of
  // ignoring them, which would leave the person looking at a form that seems to do nothing.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 409 || status === 422 || status === 400 || status === 403 || status === 404 || status === 413
        || status === 500) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
