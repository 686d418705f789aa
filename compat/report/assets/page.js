// smp-compat matrix page: cell details on click, merge toggle. Builds the DOM with textContent
// only (never innerHTML), so nothing in matrix.json can become markup.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("matrix-data").textContent);
  var S = data.strings;
  var table = document.getElementById("matrix");
  var dialog = document.getElementById("detail");
  var body = document.getElementById("detail-body");
  function str(i) { return i === null || i === undefined ? "" : S[i]; }
  function add(parent, tag, text, cls) {
    var el = document.createElement(tag);
    if (text !== undefined && text !== null) el.textContent = text;
    if (cls) el.className = cls;
    parent.appendChild(el);
    return el;
  }
  // Evidence links: relative paths only (html.py's safe_link says so too; both must agree).
  // Browsers drop controls and spaces at the ends of a URL and tabs or newlines inside it
  // before they read its scheme, so any of them refuses the link.
  function safeLink(path) {
    if (!path || path !== path.trim() || /[\u0000-\u001f\u007f-\u009f\\]/.test(path)) return false;
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(path) || path.charAt(0) === "/") return false;
    return path.split("/").indexOf("..") < 0;
  }
  function term(dl, name, value, cls) {
    if (!value) return null;
    add(dl, "dt", name);
    return add(dl, "dd", value, cls);
  }
  function show(index) {
    var c = data.cells[index];
    var row = data.rows[c[0]], col = data.columns[c[1]];
    var status = data.statuses[c[2]];
    body.textContent = "";
    add(body, "h2", row.tool + " " + row.version + " · " + col.scenario + " · plugin " + col.release);
    var dl = add(body, "dl");
    var out = term(dl, "outcome", " " + status.label);
    var sym = document.createElement("span");
    sym.className = "sym s-" + status.css;
    sym.textContent = status.symbol;
    out.insertBefore(sym, out.firstChild);
    term(dl, "reason", str(c[3]), "code");
    term(dl, "why", str(c[4]));
    term(dl, "seen", str(c[6]));
    term(dl, "fix", str(c[5]), "remedy");
    var warnings = c[7];
    for (var w = 0; w < warnings.length; w++) {
      var code = str(warnings[w]);
      var reason = data.reasons[code] || {};
      term(dl, "warning", code + (reason.explanation ? " — " + reason.explanation : ""));
      term(dl, "fix", reason.remedy || "", "remedy");
    }
    var evidence = c[8];
    if (evidence.length) {
      add(dl, "dt", "evidence");
      var dd = add(dl, "dd");
      for (var e = 0; e < evidence.length; e++) {
        if (e) dd.appendChild(document.createTextNode(" · "));
        var path = str(evidence[e][1]);
        if (evidence[e][2] === true && safeLink(path)) {
          add(dd, "a", str(evidence[e][0])).href = path;
        } else {
          add(dd, "span", str(evidence[e][0]) + " (" + path + ")");
        }
      }
    }
    term(dl, "scenario", col.title);
    term(dl, "source", row.source);
    term(dl, "time", c[9] + " s (tool " + c[10] + " s)");
    term(dl, "cell", str(c[11]), "code");
    if (typeof dialog.showModal === "function") dialog.showModal(); else dialog.setAttribute("open", "");
  }
  table.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-i]");
    if (button) show(Number(button.getAttribute("data-i")));
  });
  dialog.addEventListener("click", function (event) {
    if (event.target === dialog || event.target.classList.contains("close")) dialog.close();
  });
  var merge = document.getElementById("merge");
  function applyMerge() {
    table.classList.toggle("merge", merge.checked);
    var heads = table.querySelectorAll("th.scen");
    for (var i = 0; i < heads.length; i++) {
      heads[i].colSpan = Number(heads[i].getAttribute(merge.checked ? "data-merged" : "data-all"));
    }
  }
  merge.addEventListener("change", applyMerge);
  applyMerge();
  var failing = document.getElementById("failing");
  failing.addEventListener("change", function () {
    var rows = table.querySelectorAll("tbody tr");
    for (var i = 0; i < rows.length; i++) {
      rows[i].hidden = failing.checked && !rows[i].hasAttribute("data-failing");
    }
  });
  // The tool column is sticky: scrolling a cell into view (keyboard focus, a link) must not
  // park it under that column, so the scroller's padding follows the column's width.
  var scroller = table.closest(".scroll"), corner = table.querySelector("th.corner");
  function padScroll() {
    if (scroller && corner) scroller.style.scrollPaddingLeft = corner.offsetWidth + "px";
  }
  window.addEventListener("resize", padScroll);
  padScroll();
  document.documentElement.classList.add("js");
})();
