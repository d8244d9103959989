/* qms technical file: filterable, sortable tables; ?filter=ID in the address filters them.
   Plain script, no server and no network: works from file:// as well as from a web server. */
(function () {
  "use strict";

  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

  function cellKey(cell) {
    return (cell ? cell.textContent : "").replace(/\s+/g, " ").trim();
  }

  function rowIds(row) {
    var ids = [];
    row.querySelectorAll(".qms-id").forEach(function (node) {
      ids.push(node.textContent.trim().toLowerCase());
    });
    return ids;
  }

  function makeInteractive(container) {
    var table = container.querySelector("table");
    if (!table || !table.tBodies.length || !table.tHead) {
      return null;
    }
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var texts = rows.map(function (row) { return row.textContent.replace(/\s+/g, " ").toLowerCase(); });
    var ids = rows.map(rowIds);
    // a Set, not an object: a term such as "constructor" or "__proto__" is no id of the table
    var known = new Set();
    ids.forEach(function (list) { list.forEach(function (id) { known.add(id); }); });

    var bar = document.createElement("div");
    bar.className = "qms-filter-bar";
    var input = document.createElement("input");
    input.type = "search";
    input.className = "qms-filter";
    input.placeholder = "Filter: an id, or words";
    input.setAttribute("aria-label", "Filter the rows of this table");
    var count = document.createElement("span");
    count.className = "qms-filter-count";
    count.setAttribute("aria-live", "polite");
    bar.appendChild(input);
    bar.appendChild(count);
    container.insertBefore(bar, container.firstChild);

    function matches(index, terms) {
      return terms.every(function (term) {
        // an id of the table matches only rows holding exactly that id (SWR-1 is not SWR-10)
        if (known.has(term)) {
          return ids[index].indexOf(term) !== -1;
        }
        return texts[index].indexOf(term) !== -1;
      });
    }

    function apply() {
      var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row, index) {
        var visible = matches(index, terms);
        row.hidden = !visible;
        if (visible) {
          shown += 1;
        }
      });
      var noun = rows.length === 1 ? " row" : " rows";
      count.textContent = terms.length ? shown + " of " + rows.length + noun : rows.length + noun;
      container.classList.toggle("qms-filtered", terms.length > 0);
    }

    input.addEventListener("input", apply);

    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    headers.forEach(function (header, column) {
      header.classList.add("qms-sortable");
      header.tabIndex = 0;
      header.setAttribute("aria-sort", "none");
      header.title = "Sort by this column";
      function sort() {
        var ascending = header.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (other) { other.setAttribute("aria-sort", "none"); });
        header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var order = rows.map(function (row, index) { return index; });
        order.sort(function (a, b) {
          var left = cellKey(rows[a].cells[column]);
          var right = cellKey(rows[b].cells[column]);
          if (left === "—" && right !== "—") { return 1; }
          if (right === "—" && left !== "—") { return -1; }
          var result = collator.compare(left, right);
          return (ascending ? result : -result) || a - b;
        });
        order.forEach(function (index) { body.appendChild(rows[index]); });
      }
      header.addEventListener("click", sort);
      header.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sort();
        }
      });
    });
    apply();
    return { input: input, apply: apply };
  }

  function ready() {
    var tables = [];
    document.querySelectorAll(".qms-interactive").forEach(function (container) {
      var table = makeInteractive(container);
      if (table) {
        tables.push(table);
      }
    });
    var wanted = new URLSearchParams(window.location.search).get("filter");
    if (wanted) {
      tables.forEach(function (table) {
        table.input.value = wanted;
        table.apply();
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
