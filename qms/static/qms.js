/* qms technical file: filterable, sortable tables (?filter=ID in the address filters them), and
   long documents folded by section under an index of their items.
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

  // ------------------------------------------------------------------ long documents

  // A page heavier than this (an item counts as ten table rows) gets an item index and folds.
  var LONG_PAGE = 400;
  var FOLDABLE_SECTION = 40;

  function weight(root) {
    return root.querySelectorAll("section.qms-item").length * 10 + root.querySelectorAll("tbody > tr").length;
  }

  function headingText(heading) {
    var copy = heading.cloneNode(true);
    copy.querySelectorAll(".headerlink").forEach(function (link) { link.remove(); });
    return copy.textContent.replace(/\s+/g, " ").trim();
  }

  // Sections of the document holding content rather than further sections (items do not count).
  function leafSections(article) {
    return Array.prototype.filter.call(article.querySelectorAll("section:not(.qms-item)"), function (section) {
      var heading = section.firstElementChild;
      return heading && /^H[2-4]$/.test(heading.tagName) &&
        !section.querySelector("section:not(.qms-item)") && weight(section) >= FOLDABLE_SECTION;
    });
  }

  function fold(section) {
    var heading = section.firstElementChild;
    var items = section.querySelectorAll("section.qms-item").length;
    var details = document.createElement("details");
    details.className = "qms-fold";
    var summary = document.createElement("summary");
    summary.textContent = items ? items + (items === 1 ? " item" : " items") : "Contents of this section";
    details.appendChild(summary);
    while (heading.nextSibling) {
      details.appendChild(heading.nextSibling);
    }
    section.appendChild(details);
    // Item blocks start folded; a section of tables (a matrix with its own filter) starts open.
    details.open = items === 0;
    return details;
  }

  function itemIndex(groups, folds) {
    var nav = document.createElement("nav");
    nav.className = "qms-item-index";
    nav.setAttribute("aria-label", "Items of this document");
    var title = document.createElement("p");
    title.className = "qms-item-index-title";
    title.textContent = "Items of this document";
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "qms-fold-all";
    toggle.textContent = "Open all sections";
    toggle.addEventListener("click", function () {
      var open = folds.some(function (details) { return !details.open; });
      folds.forEach(function (details) { details.open = open; });
      toggle.textContent = open ? "Close all sections" : "Open all sections";
    });
    title.appendChild(toggle);
    nav.appendChild(title);
    var list = document.createElement("ul");
    groups.forEach(function (group) {
      var entry = document.createElement("li");
      var name = document.createElement("span");
      name.className = "qms-item-index-group";
      name.textContent = group.title;
      entry.appendChild(name);
      group.items.forEach(function (item) {
        var link = document.createElement("a");
        link.href = "#" + item.id;
        link.className = "qms-id";
        link.textContent = item.id;
        var itemTitle = item.querySelector(".qms-item-title");
        link.title = itemTitle ? headingText(itemTitle) : item.id;
        entry.appendChild(document.createTextNode(" "));
        entry.appendChild(link);
      });
      list.appendChild(entry);
    });
    nav.appendChild(list);
    return nav;
  }

  // Open the folds around the element the address points at, and show it.
  function reveal(scroll) {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (!target) {
      return;
    }
    for (var node = target.parentElement; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") {
        node.open = true;
      }
    }
    if (scroll) {
      target.scrollIntoView();
    }
  }

  function foldLongDocument() {
    var article = document.querySelector("article[role='main']");
    if (!article || weight(article) < LONG_PAGE) {
      return;
    }
    var sections = leafSections(article);
    var groups = sections.map(function (section) {
      return { title: headingText(section.firstElementChild), items: section.querySelectorAll("section.qms-item[id]") };
    }).filter(function (group) { return group.items.length; });
    var folds = sections.map(fold);
    if (groups.length) {
      var first = article.querySelector("section > section");
      if (first) {
        first.parentNode.insertBefore(itemIndex(groups, folds), first);
      }
    }
    window.addEventListener("hashchange", function () { reveal(true); });
    window.addEventListener("beforeprint", function () {
      folds.forEach(function (details) { details.open = true; });
    });
    reveal(true);
  }

  // furo's sidebar captions have role="heading" without the level the role requires.
  function headingLevels() {
    document.querySelectorAll("[role='heading']:not([aria-level])").forEach(function (caption) {
      caption.setAttribute("aria-level", "2");
    });
  }

  function ready() {
    headingLevels();
    foldLongDocument();
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
