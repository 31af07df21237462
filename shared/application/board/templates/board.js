// Keeps a live board page current without a reload: fetch the same URL, swap <main> when it changed.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var live = document.getElementById("live-state");
  if (!main || !main.hasAttribute("data-live") || !live || !window.fetch || !window.DOMParser) { return; }
  var every = (parseInt(live.getAttribute("data-refresh"), 10) || 2) * 1000;
  function focusedName() {
    var el = document.activeElement;
    return el && main.contains(el) ? (el.id || el.getAttribute("name")) : null;
  }
  function tick() {
    fetch(window.location.href, {headers: {"Accept": "text/html"}, cache: "no-store", credentials: "same-origin"})
      .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        var updated = doc.getElementById("updated");
        if (updated) { document.getElementById("updated").replaceWith(updated); }
        live.textContent = "(updates itself every " + every / 1000 + "s)";
        if (!fresh || fresh.innerHTML === main.innerHTML) { return; }
        var keep = focusedName();
        main.innerHTML = fresh.innerHTML;
        if (keep) {
          var again = document.getElementById(keep) || main.querySelector("[name='" + keep + "']");
          if (again) { again.focus(); }
        }
      })
      .catch(function (e) { live.textContent = "(update failed: " + e.message + "; retrying)"; })
      .then(function () { window.setTimeout(tick, every); });
  }
  window.setTimeout(tick, every);
})();
