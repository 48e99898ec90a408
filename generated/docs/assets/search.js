// Client-side search over events, properties, milestones, funnel steps, Meta events and the
// plan's sections, by name and by the words of their descriptions. The index is window.TRACKPLAN_SEARCH, set by
// search-index.js (a <script>, so it works from file:// where fetch() of a local file does not).
(function () {
  "use strict";
  var input = document.getElementById("search-input");
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  var index = window.TRACKPLAN_SEARCH;
  if (!input || !list || !index) { return; }
  var root = document.body.getAttribute("data-root") || "";
  var LIMIT = 12;
  input.disabled = false;

  function score(entry, terms) {
    var name = entry.name.toLowerCase();
    var text = (entry.text + " " + entry.detail + " " + entry.kind).toLowerCase();
    var total = 0;
    for (var i = 0; i < terms.length; i++) {
      var t = terms[i];
      if (name === t) { total += 100; }
      else if (name.indexOf(t) === 0) { total += 40; }
      else if (name.indexOf(t) !== -1) { total += 25; }
      else if (text.indexOf(t) !== -1) { total += 5; }
      else { return 0; }
    }
    return total + (entry.kind === "event" ? 1 : 0);
  }

  function item(entry) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = root + entry.href;
    var code = document.createElement("code");
    code.textContent = entry.name;
    var kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = entry.kind + " · " + entry.detail;
    var text = document.createElement("span");
    text.className = "text";
    text.textContent = entry.text;
    a.appendChild(code);
    a.appendChild(kind);
    a.appendChild(text);
    li.appendChild(a);
    return li;
  }

  function update() {
    var query = input.value.trim().toLowerCase();
    list.textContent = "";
    if (!query) { list.hidden = true; status.textContent = ""; return; }
    var terms = query.split(/\s+/);
    var hits = [];
    for (var i = 0; i < index.length; i++) {
      var s = score(index[i], terms);
      if (s > 0) { hits.push({ s: s, e: index[i] }); }
    }
    hits.sort(function (a, b) { return b.s - a.s || (a.e.name < b.e.name ? -1 : 1); });
    hits.slice(0, LIMIT).forEach(function (h) { list.appendChild(item(h.e)); });
    if (!hits.length) {
      var none = document.createElement("li");
      none.className = "empty";
      none.textContent = "No event or property matches “" + input.value.trim() + "”.";
      list.appendChild(none);
    }
    status.textContent = hits.length + " result" + (hits.length === 1 ? "" : "s");
    list.hidden = false;
  }

  function links() { return Array.prototype.slice.call(list.querySelectorAll("a")); }

  input.addEventListener("input", update);
  input.addEventListener("keydown", function (ev) {
    var all = links();
    if (ev.key === "Enter" && all.length) { ev.preventDefault(); all[0].click(); }
    else if (ev.key === "ArrowDown" && all.length) { ev.preventDefault(); all[0].focus(); }
    else if (ev.key === "Escape") { input.value = ""; update(); }
  });
  list.addEventListener("keydown", function (ev) {
    var all = links();
    var at = all.indexOf(document.activeElement);
    if (ev.key === "ArrowDown" && at < all.length - 1) { ev.preventDefault(); all[at + 1].focus(); }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); (at > 0 ? all[at - 1] : input).focus(); }
    else if (ev.key === "Escape") { input.focus(); input.value = ""; update(); }
  });
  document.addEventListener("click", function (ev) {
    if (!list.contains(ev.target) && ev.target !== input) { list.hidden = true; }
  });
  input.addEventListener("focus", function () { if (input.value.trim()) { update(); } });
})();
