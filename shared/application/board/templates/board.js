// Keeps a live board page current without a reload: fetch the same URL, swap <main> when it changed.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var live = document.getElementById("live-state");
  if (!main || !main.hasAttribute("data-live") || !live || !window.fetch || !window.DOMParser) { return; }
  var every = (parseInt(live.getAttribute("data-refresh"), 10) || 2) * 1000;
  var served = main.innerHTML;
  // an element of <main> found again in the new <main>: by its id, a fold's heading by its <details>' id, else
  // the n-th of its kind (the history's selects and button have no id; nor has a summary)
  function keyOf(el) {
    if (!el || el === main || !main.contains(el)) { return null; }
    if (el.id) { return {id: el.id}; }
    if (el.tagName === "SUMMARY" && el.parentElement && el.parentElement.id) { return {summaryOf: el.parentElement.id}; }
    return {tag: el.tagName, n: Array.prototype.indexOf.call(main.getElementsByTagName(el.tagName), el)};
  }
  function find(key) {
    if (key.id) { return document.getElementById(key.id); }
    if (key.summaryOf) { var d = document.getElementById(key.summaryOf); return d && d.querySelector("summary"); }
    return main.getElementsByTagName(key.tag)[key.n] || null;
  }
  // what a person typed or chose in a form and has not sent yet: a self-update must not undo it
  function edited() {
    var found = [];
    Array.prototype.forEach.call(main.querySelectorAll("input, select"), function (el) {
      var changed = el.tagName === "SELECT"
        ? Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; })
        : el.type !== "hidden" && el.value !== el.defaultValue;
      if (changed) { found.push({key: keyOf(el), value: el.value}); }
    });
    return found;
  }
  // the sections a person opened or closed stay so when the page updates itself; the others follow the page
  // (a timeline that comes to need a look opens): a person's choice is where <main> differs from what was served
  function openState() {
    var state = {};
    Array.prototype.forEach.call(main.querySelectorAll("details[id]"), function (d) { state[d.id] = d.open; });
    return state;
  }
  var has = function (o, k) { return Object.prototype.hasOwnProperty.call(o, k); };
  var servedOpen = openState();
  var chosen = {};
  function choices() {
    var now = openState();
    Object.keys(now).forEach(function (id) {
      if (has(chosen, id) || (has(servedOpen, id) && servedOpen[id] !== now[id])) { chosen[id] = now[id]; }
    });
  }
  function restore() {
    servedOpen = openState();
    Array.prototype.forEach.call(main.querySelectorAll("details[id]"), function (d) {
      if (has(chosen, d.id)) { d.open = chosen[d.id]; }
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
        // compared with what the server sent last time, not with <main> as the person has folded it since
        if (!fresh || fresh.innerHTML === served) { return; }
        served = fresh.innerHTML;
        var keep = keyOf(document.activeElement);
        var typed = edited();
        choices();
        main.innerHTML = fresh.innerHTML;
        restore();
        typed.forEach(function (t) { var el = t.key && find(t.key); if (el) { el.value = t.value; } });
        var again = keep && find(keep);
        if (again) { again.focus(); }
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
    var id = window.location.hash.slice(1);
    try { id = decodeURIComponent(id); } catch (e) { /* not an id of this page: a hand-made link */ }
    var target = id && document.getElementById(id);
    for (var el = target; el && el.tagName !== "MAIN"; el = el.parentElement) {
      if (el.tagName === "DETAILS") { el.open = true; }
    }
    var inner = target && target.querySelector("details");
    if (inner) { inner.open = true; }
  }
  window.addEventListener("hashchange", reveal);
  reveal();
})();
