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
  // The kit's texts mark code with backticks (GFM code spans, as escape.py's spans() reads
  // them): an unescaped run opens, the next run of the same length closes; one space inside
  // each end is trimmed. Each part is set with textContent.
  function spans(text) {
    var runs = [], re = /`+/g, m, parts = [], from = 0, i = 0;
    while ((m = re.exec(text)) !== null) runs.push([m.index, m[0].length]);
    while (i < runs.length) {
      var open = runs[i], close = -1;
      if (!(open[0] > 0 && text.charAt(open[0] - 1) === "\\")) {
        for (var j = i + 1; j < runs.length; j++) if (runs[j][1] === open[1]) { close = j; break; }
      }
      if (close < 0) { i++; continue; }
      var inner = text.slice(open[0] + open[1], runs[close][0]);
      if (inner.length > 1 && inner.charAt(0) === " " && inner.charAt(inner.length - 1) === " " &&
          /[^ ]/.test(inner)) inner = inner.slice(1, -1);
      parts.push([false, text.slice(from, open[0])], [true, inner]);
      from = runs[close][0] + runs[close][1];
      i = close + 1;
    }
    parts.push([false, text.slice(from)]);
    return parts;
  }
  function prose(dl, name, value, cls) {
    var dd = term(dl, name, value ? " " : "", cls);
    if (!dd) return null;
    dd.textContent = "";
    var parts = spans(value);
    for (var p = 0; p < parts.length; p++) {
      if (parts[p][0]) add(dd, "code", parts[p][1]);
      else if (parts[p][1]) dd.appendChild(document.createTextNode(parts[p][1]));
    }
    return dd;
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
    prose(dl, "why", str(c[4]));
    term(dl, "seen", str(c[6]));
    prose(dl, "fix", str(c[5]), "remedy");
    var warnings = c[7];
    for (var w = 0; w < warnings.length; w++) {
      var code = str(warnings[w]);
      var reason = data.reasons[code] || {};
      prose(dl, "warning", code + (reason.explanation ? " — " + reason.explanation : ""));
      prose(dl, "fix", reason.remedy || "", "remedy");
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
    term(dl, "cell", str(c[9]), "code");
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
