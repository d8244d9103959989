// qms serve: reload the page when a new build is ready, at the item that was at the top of the
// window, and list the findings of `qms check` for the latest build. Served pages only: never
// part of a built site.
(() => {
  "use strict";
  const STATE = "/__qms__/state";
  const POSITION = "qms-serve-position";
  const PANEL = "qms-serve-findings";
  let seen = null;

  // The element with an id nearest above the top of the window (an item block, a section), and where it is.
  function anchor() {
    let best = null;
    let bestTop = -Infinity;
    for (const element of document.querySelectorAll("[id]")) {
      if (!element.getClientRects().length) continue; // not laid out: inside a folded section
      const top = element.getBoundingClientRect().top;
      if (top <= 1 && top > bestTop) {
        best = element;
        bestTop = top;
      }
    }
    return best ? { id: best.id, offset: bestTop } : { id: null, offset: 0 };
  }

  function remember() {
    const { id, offset } = anchor();
    // the sections the reader had unfolded (the site folds long documents again on every load)
    const unfolded = [...document.querySelectorAll("section[id] > details[open]")].map((d) => d.parentElement.id);
    sessionStorage.setItem(
      POSITION,
      JSON.stringify({ path: location.pathname, id, offset, y: window.scrollY, unfolded }),
    );
  }

  function restore() {
    const saved = sessionStorage.getItem(POSITION);
    sessionStorage.removeItem(POSITION);
    if (!saved) return;
    const position = JSON.parse(saved);
    if (position.path !== location.pathname) return;
    for (const id of position.unfolded || []) {
      const fold = document.getElementById(id)?.querySelector(":scope > details");
      if (fold) fold.open = true;
    }
    const element = position.id ? document.getElementById(position.id) : null;
    // and the folds around the item being read, wherever it is now
    for (let node = element; node; node = node.parentElement) if (node.tagName === "DETAILS") node.open = true;
    const y = element ? element.getBoundingClientRect().top + window.scrollY - position.offset : position.y;
    window.scrollTo({ top: y, behavior: "instant" }); // not smoothly: the theme sets smooth scrolling
  }

  function line(finding) {
    const item = finding.item ? ` ${finding.item}` : "";
    return `${finding.where}: ${finding.severity} ${finding.rule}${item}: ${finding.message}`;
  }

  function show(state) {
    let panel = document.getElementById(PANEL);
    if (!state.errors && !state.warnings) {
      if (panel) panel.remove();
      return;
    }
    if (!panel) {
      panel = document.createElement("details");
      panel.id = PANEL;
      panel.style.cssText =
        "position:fixed;right:1rem;bottom:1rem;z-index:1000;max-width:min(48rem,90vw);max-height:50vh;" +
        "overflow:auto;background:#fff;color:#111;border:2px solid #a40000;padding:.5rem;font:13px monospace";
      panel.append(document.createElement("summary"), document.createElement("pre"));
      document.body.append(panel);
    }
    panel.querySelector("summary").textContent = `qms check: ${state.errors} error(s), ${state.warnings} warning(s)`;
    const more = state.errors + state.warnings - state.findings.length;
    const lines = state.findings.map(line);
    if (more > 0) lines.push(`... and ${more} more (qms check lists them all)`);
    panel.querySelector("pre").textContent = lines.join("\n");
  }

  async function poll() {
    try {
      const response = await fetch(STATE, { cache: "no-store" });
      const state = await response.json();
      if (seen !== null && state.build !== seen) {
        remember();
        location.reload();
        return;
      }
      seen = state.build;
      show(state);
    } catch (error) {
      // the server is stopped or restarting: keep the page, try again
    }
    setTimeout(poll, 500);
  }

  history.scrollRestoration = "manual"; // the script places the page itself, at the item
  // after the site's own script has laid the page out (its item index, its folds)
  const later = () => setTimeout(restore, 0);
  if (document.readyState === "complete") later();
  else window.addEventListener("load", later);
  poll();
})();
