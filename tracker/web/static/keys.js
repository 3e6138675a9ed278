/* Keyboard use of the workspace (ours, no library): "/" focuses the search box; on the
   submission list "j" / "k" move to the next / previous row and Enter opens it. Keys typed
   into a field are left alone. Loaded with defer; works again after htmx swaps the rows. */
(function () {
  "use strict";
  var current = -1;

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#submission-list tbody tr"))
      .filter(function (tr) { return tr.querySelector("td.ref a"); });
  }

  function select(list, index) {
    if (!list.length) { return; }
    index = Math.max(0, Math.min(list.length - 1, index));
    list.forEach(function (tr) { tr.classList.remove("kbd-current"); tr.removeAttribute("aria-selected"); });
    var row = list[index];
    row.classList.add("kbd-current");
    row.setAttribute("aria-selected", "true");
    row.querySelector("td.ref a").focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
    current = index;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    if (event.key === "/") {
      var search = document.getElementById("search");
      if (search) { event.preventDefault(); search.focus(); search.select(); }
      return;
    }
    if (event.key !== "j" && event.key !== "k") { return; }
    var list = rows();
    if (!list.length) { return; }
    var at = list.indexOf(document.activeElement && document.activeElement.closest ?
      document.activeElement.closest("tr") : null);
    if (at < 0) { at = current < list.length ? current : -1; }
    event.preventDefault();
    select(list, event.key === "j" ? at + 1 : (at < 0 ? 0 : at - 1));
  });

  document.addEventListener("htmx:afterSwap", function () { current = -1; });
})();
