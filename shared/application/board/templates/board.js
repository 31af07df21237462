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
  // the sections a person opened or closed stay so when the page updates itself
  function openState() {
    var state = {};
    Array.prototype.forEach.call(main.querySelectorAll("details[id]"), function (d) { state[d.id] = d.open; });
    return state;
  }
  function restore(state) {
    Array.prototype.forEach.call(main.querySelectorAll("details[id]"), function (d) {
      if (Object.prototype.hasOwnProperty.call(state, d.id)) { d.open = state[d.id]; }
    });
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
        var typed = keep && document.activeElement.tagName === "INPUT" ? document.activeElement.value : null;
        var opened = openState();
        main.innerHTML = fresh.innerHTML;
        restore(opened);
        if (keep) {
          var again = document.getElementById(keep) || main.querySelector("[name='" + keep + "']");
          if (again) {
            if (typed !== null) { again.value = typed; }
            again.focus();
          }
        }
      })
      .catch(function (e) { live.textContent = "(update failed: " + e.message + "; retrying)"; })
      .then(function () { window.setTimeout(tick, every); });
  }
  window.setTimeout(tick, every);
})();

(function () {
  "use strict";
  // a link to a section inside a closed <details> (the workload's timeline) opens it
  function reveal() {
    var target = window.location.hash && document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
    for (var el = target; el && el.tagName !== "MAIN"; el = el.parentElement) {
      if (el.tagName === "DETAILS") { el.open = true; }
    }
    var inner = target && target.querySelector("details");
    if (inner) { inner.open = true; }
  }
  window.addEventListener("hashchange", reveal);
  reveal();
})();
