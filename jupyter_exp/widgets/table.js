// The experiment table's front end: draws what Python computed (the `table` state)
// and sends every click back as a message. Sorting, filtering and actions happen in
// Python (jupyter_exp/table/controller.py). One file for two hosts: the notebook
// widget loads it as an anywidget module (jupyter_exp/widgets/table.py), and the
// JupyterLab extension bundles it behind a model that talks to the server
// (labextension/src/serverModel.ts), where `model.get("host")` is "lab".

const ACTIONS = [
  ["apply", "Apply"], ["branch", "Branch…"], ["rename", "Rename…"], ["remove", "Remove"],
  ["push", "Push"], ["requeue", "Queue again…"], ["diff", "Diff"], ["plot", "Plot"],
];

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

// Rows are drawn only in and near the view (10,000 experiments scroll smoothly): all
// rows have one height, and two spacer rows stand for the rows above and below.
const ALL_ROWS_UP_TO = 150;  // fewer rows than this are all drawn
const OVERSCAN = 20;  // rows drawn beyond each edge of the view
const FALLBACK_VIEW = 640;  // px, while the scroller has no layout (hidden, or a test DOM)

// A big table has fixed column widths, measured once from its text: laying out the
// drawn rows is then cheap, and columns keep their width as other rows scroll in.
const SAMPLE_ROWS = 2000;

function columnWidths(rows, cols) {
  const step = Math.max(1, Math.floor(rows.length / SAMPLE_ROWS));
  const chars = cols.map((c) => String(c.label ?? "").length + 2);  // + the sort mark
  let progress = false, depth = 0;
  for (let i = 0; i < rows.length; i += step) {
    const r = rows[i];
    if (r.progress) progress = true;
    depth = Math.max(depth, r.depth || 0);
    r.cells.forEach((v, j) => { chars[j] = Math.max(chars[j], String(v ?? "").length); });
  }
  return cols.map((c, j) => {
    let ch = Math.min(chars[j], 48);
    if (c.id === "experiment") ch += 10 + depth * 1.5 + (progress ? 30 : 0);  // twist, rev, bar
    return `calc(${Math.ceil(ch * 1.05)}ch + 18px)`;
  });
}

function seconds(s) {
  if (s == null) return "";
  s = Math.round(s);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

function elapsed(p) {
  // Queued runs carry their start (the clock ticks here); checkpoint events their elapsed.
  return p.started ? Date.now() / 1000 - p.started : p.elapsed;
}

function progressCell(p) {
  if (!p) return "";
  const pct = p.total && p.step != null ? Math.min(100, (100 * p.step) / p.total) : null;
  const metrics = Object.entries(p.metrics || {})
    .map(([k, v]) => `${esc(k)}=${typeof v === "number" ? Number(v.toPrecision(4)) : esc(v)}`).join(" ");
  const step = p.step != null ? `step ${p.step}${p.total ? ` of ${p.total}` : ""} · ` : "";
  return `<div class="jx-progress" title="${esc(metrics)}">` +
    `<div class="jx-bar${pct == null ? " jx-bar-unknown" : ""}"><div style="width:${pct ?? 100}%"></div></div>` +
    `<span>${step}<span class="jx-elapsed"${p.started ? ` data-started="${p.started}"` : ""}>${seconds(elapsed(p))}</span>` +
    `${metrics ? " · " + metrics : ""}</span></div>`;
}

function render({ model, el }) {
  const lab = model.get("host") === "lab";
  el.classList.add("jx-table-widget");
  el.classList.toggle("jx-host-lab", lab);
  el.innerHTML = `
    <div class="jx-toolbar">
      <span class="jx-counts"></span>
      <span class="jx-live" title="updates while experiments run"></span>
      <button data-cmd="refresh" title="collect the experiments again">Refresh</button>
      ${lab ? `<button data-lab="run" title="run an experiment with params you choose">Run with params…</button>
      <button data-lab="queue" title="queue experiments, a sweep too (-S lr=0.1,0.2)">Queue…</button>
      <button data-lab="logs" title="follow the queue's log in the sidebar">Logs</button>` : ""}
      <span class="jx-queue-ctl"><button data-queue="start" title="${lab ? "run the queued experiments in a worker process of the server's machine" : "run the queued experiments in a thread of this kernel"}">▶ Run queue</button>
        <select class="jx-jobs" aria-label="experiments at a time">${[1, 2, 3, 4].map((j) => `<option value="${j}">-j ${j}</option>`).join("")}</select></span>
      <button data-queue="stop" title="stop after the experiments running now">■ Stop queue</button>
    </div>
    <div class="jx-filterbar">
      <select class="jx-f-col" aria-label="filter column"></select>
      <select class="jx-f-op" aria-label="filter operator"></select>
      <input class="jx-f-val" placeholder="value" aria-label="filter value">
      <button data-cmd="add-filter">Add filter</button>
      <span class="jx-chips"></span>
      <label><input type="checkbox" data-option="only_changed"> Only changed columns</label>
      <label><input type="checkbox" data-option="starred_only"> Starred only</label>
      <button data-cmd="columns">Columns…</button>
      <button data-cmd="reset" title="clear sort, filters and column choices (stars stay)">Reset</button>
    </div>
    <div class="jx-columns" hidden></div>
    <div class="jx-actions"></div>
    <div class="jx-pending" hidden></div>
    <div class="jx-message" role="status"></div>
    <div class="jx-scroll"><table class="jx-table"><colgroup></colgroup><thead></thead><tbody></tbody></table></div>
    <div class="jx-panel" hidden><div class="jx-panel-head"><b></b>
      <button data-cmd="close-panel" title="close">×</button></div><div class="jx-panel-body"></div></div>`;
  const $ = (sel) => el.querySelector(sel);
  const send = (msg) => model.send(msg);
  let selected = new Set(model.get("selected") || []);
  let columnsShown = null;
  let lastClicked = null;
  let rowsAll = [];  // the table's rows, all of them; the DOM holds a window of them
  let drawn = [0, 0];  // the rows in the DOM: [first, end)
  let rowHeight = 0;  // measured from a drawn row; 0 until then
  let rowHtml = () => "";

  $(".jx-actions").innerHTML = ACTIONS.map(([a, label]) =>
    `<button data-action="${a}" disabled>${label}</button>`).join("") +
    `<span class="jx-selection"></span>`;

  function syncSelection() {
    model.set("selected", [...selected]);
    model.save_changes();
    drawActions();
    el.querySelectorAll("tbody tr").forEach((tr) => {
      const on = selected.has(tr.dataset.key);
      tr.classList.toggle("jx-selected", on);
      const box = tr.querySelector("input.jx-select");
      if (box) box.checked = on;
    });
  }

  function drawActions() {
    const n = selected.size;
    el.querySelectorAll(".jx-actions button").forEach((b) => {
      const a = b.dataset.action;
      b.disabled = n === 0 || (["apply", "branch", "rename", "requeue"].includes(a) && n !== 1) ||
        (a === "diff" && n > 2);
    });
    $(".jx-selection").textContent = n ? `${n} selected` : "select rows to act on them";
  }

  function drawToolbar() {
    const t = model.get("table") || {};
    const c = t.counts || {};
    const parts = [`${c.experiments ?? 0} experiments`];
    for (const s of ["running", "queued", "failed"]) if (c[s]) parts.push(`${c[s]} ${s}`);
    parts.push(`${c.success ?? 0} done`);
    $(".jx-counts").textContent = parts.join(" · ") + (c.shown !== c.experiments ? ` · showing ${c.shown}` : "");
    $(".jx-live").textContent = model.get("live") ? "● live" : "";
    $(".jx-queue-ctl").hidden = !c.queued || c.workers > 0;
    el.querySelector('[data-queue="stop"]').hidden = !c.workers;
    const prefs = model.get("prefs") || {};
    el.querySelectorAll("[data-option]").forEach((box) => { box.checked = !!prefs[box.dataset.option]; });
    // Rebuilt only when the columns change: a live refresh must not close an open menu.
    const signature = JSON.stringify([(t.all_columns || []).map((c) => c.id), t.operators]);
    if (signature !== columnsShown) {
      columnsShown = signature;
      const col = $(".jx-f-col"), op = $(".jx-f-op");
      const keepCol = col.value, keepOp = op.value;
      col.innerHTML = (t.all_columns || []).map((c) =>
        `<option value="${esc(c.id)}">${esc(c.group === "info" ? c.label : `${c.group}: ${c.label}`)}</option>`).join("");
      op.innerHTML = (t.operators || []).map((o) => `<option value="${esc(o)}">${esc(o === "empty" ? "is empty" : o)}</option>`).join("");
      if (keepCol) col.value = keepCol;
      if (keepOp) op.value = keepOp;
    }
    const inactive = new Set(t.inactive_filters || []);
    $(".jx-chips").innerHTML = (prefs.filters || []).map((f, i) =>
      `<span class="jx-chip${inactive.has(i) ? " jx-inactive" : ""}"${inactive.has(i) ? ' title="does not apply to the columns shown now"' : ""}>${esc(f.column)} ${esc(f.op === "empty" ? "is empty" : f.op)} ${esc(f.value)}` +
      `<button data-unfilter="${i}" title="remove this filter">×</button></span>`).join("");
    $(".jx-columns").innerHTML = (t.all_columns || []).map((c) =>
      `<div class="jx-colrow"><label><input type="checkbox" data-hide="${esc(c.id)}" ${c.hidden ? "" : "checked"}>` +
      ` ${esc(c.group === "info" ? c.label : `${c.group}: ${c.label}`)}</label>` +
      `<button data-move="${esc(c.id)}" data-by="-1" title="move left">←</button>` +
      `<button data-move="${esc(c.id)}" data-by="1" title="move right">→</button></div>`).join("");
  }

  function drawTable() {
    const t = model.get("table") || {};
    const cols = t.columns || [];
    const sort = (model.get("prefs") || {}).sort || [];
    const groups = [];
    for (const c of cols) {
      const g = c.group === "info" ? "" : c.group;
      if (groups.length && groups[groups.length - 1][0] === g) groups[groups.length - 1][1] += 1;
      else groups.push([g, 1]);
    }
    const mark = (id) => {
      const i = sort.findIndex(([c]) => c === id);
      if (i < 0) return "";
      return ` <span class="jx-sort">${sort[i][1] === "desc" ? "▼" : "▲"}${sort.length > 1 ? i + 1 : ""}</span>`;
    };
    $("thead").innerHTML =
      `<tr class="jx-groups"><th colspan="3"></th>${groups.map(([g, n]) =>
        `<th colspan="${n}" class="jx-group-${esc(g)}">${esc(g)}</th>`).join("")}</tr>` +
      `<tr><th></th><th></th><th></th>${cols.map((c) =>
        `<th data-sort="${esc(c.id)}" class="jx-col-${esc(c.group)}" title="click: sort; shift+click: add to the sort${c.file ? "; " + esc(c.file) : ""}">` +
        `${esc(c.label)}${mark(c.id)}</th>`).join("")}</tr>`;
    rowHtml = (r) => {
      const isExp = r.kind === "experiment" || r.kind === "checkpoint";
      const cells = r.cells.map((v, i) => {
        const c = cols[i];
        if (c.id === "experiment") {
          const twist = r.children ? `<button class="jx-twist" data-expand="${esc(r.key)}" title="${r.children} checkpoints">${r.expanded ? "▾" : "▸"}</button>` : `<span class="jx-twist"></span>`;
          const rev = r.rev && r.rev !== v ? ` <span class="jx-rev">${esc(r.rev)}</span>` : "";
          const step = r.kind === "checkpoint" && r.step != null ? ` <span class="jx-rev">step ${r.step}</span>` : "";
          const warn = r.error ? ` <span class="jx-warn" title="${esc(r.error)}">⚠</span>` : "";
          return `<td class="jx-name" style="padding-left:${0.3 + r.depth * 1.2}em">${twist}${esc(v)}${rev}${step}${warn}${progressCell(r.progress)}</td>`;
        }
        if (c.id === "state") return `<td>${r.state ? `<span class="jx-state jx-state-${esc(r.state)}" title="${esc(r.error)}">${esc(r.state)}</span>` : ""}</td>`;
        return `<td class="jx-t-${esc(c.type)}">${esc(v)}</td>`;
      }).join("");
      return `<tr data-key="${esc(r.key)}" class="jx-row jx-${esc(r.kind)}${selected.has(r.key) ? " jx-selected" : ""}">` +
        `<td><input type="checkbox" class="jx-select" aria-label="select ${esc(r.cells[0])}" ${selected.has(r.key) ? "checked" : ""}></td>` +
        `<td>${r.kind === "experiment" ? `<button class="jx-star" data-star="${esc(r.key)}" title="star">${r.starred ? "★" : "☆"}</button>` : ""}</td>` +
        `<td>${isExp ? `<button class="jx-apply" data-row-action="apply" data-key="${esc(r.key)}" title="apply to the workspace">Apply</button>` : ""}</td>` +
        cells + "</tr>";
    };
    rowsAll = t.rows || [];
    const fixed = rowsAll.length > ALL_ROWS_UP_TO;
    const widths = fixed ? ["2.2em", "2.2em", "5em", ...columnWidths(rowsAll, cols)] : [];
    $("colgroup").innerHTML = widths.map((w) => `<col style="width:${w}">`).join("");
    $(".jx-table").classList.toggle("jx-fixed", fixed);
    $(".jx-table").style.width = fixed ? `calc(${widths.join(" + ")})` : "";
    drawWindow(true);
    const keys = new Set(rowsAll.map((r) => r.key));
    const before = selected.size;
    selected = new Set([...selected].filter((k) => keys.has(k)));
    if (selected.size !== before) syncSelection(); else drawActions();
  }

  // The rows from `first` to `end` that the view needs now (all of a small table).
  function neededRows() {
    const n = rowsAll.length;
    if (n <= ALL_ROWS_UP_TO) return [0, n];
    const scroller = $(".jx-scroll");
    const h = rowHeight || 24;
    const view = scroller.clientHeight || FALLBACK_VIEW;
    const head = $("thead").offsetHeight || 0;
    const top = Math.max(0, scroller.scrollTop - head);
    return [Math.min(n, Math.floor(top / h)), Math.min(n, Math.ceil((top + view) / h))];
  }

  // Draws rows [a, b) around the view. Scrolling moves the window a few rows a frame:
  // rows leaving it are removed and rows entering it added, the rest stay in place;
  // a jump, or a new table, draws the window anew.
  function drawWindow(force) {
    const n = rowsAll.length;
    const small = n <= ALL_ROWS_UP_TO;
    const [first, end] = neededRows();
    const a = small ? 0 : Math.max(0, first - OVERSCAN);
    const b = small ? n : Math.min(n, end + OVERSCAN);
    if (!force && a === drawn[0] && b === drawn[1]) return;
    const h = rowHeight || 24;
    const body = $("tbody");
    const rowsHtml = (from, to) => {
      const html = [];
      for (let i = from; i < to; i++) html.push(rowHtml(rowsAll[i]));
      return html.join("");
    };
    const spacers = body.querySelectorAll(":scope > tr.jx-spacer");
    if (force || small || spacers.length !== 2 || b <= drawn[0] || a >= drawn[1]) {
      const span = 3 + ((model.get("table") || {}).columns || []).length;
      const spacer = (rows) => small ? "" :
        `<tr class="jx-spacer" aria-hidden="true"><td colspan="${span}" style="height:${rows * h}px"></td></tr>`;
      body.innerHTML = spacer(a) + rowsHtml(a, b) + spacer(n - b);
    } else {
      const [top, bottom] = spacers;
      for (let i = drawn[0]; i < a; i++) top.nextElementSibling.remove();
      for (let i = b; i < drawn[1]; i++) bottom.previousElementSibling.remove();
      if (a < drawn[0]) top.insertAdjacentHTML("afterend", rowsHtml(a, drawn[0]));
      if (b > drawn[1]) bottom.insertAdjacentHTML("beforebegin", rowsHtml(drawn[1], b));
      top.firstElementChild.style.height = `${a * h}px`;
      bottom.firstElementChild.style.height = `${(n - b) * h}px`;
    }
    drawn = [a, b];
    if (!rowHeight) {  // the first drawn row tells the real height (fonts differ per host)
      const tr = el.querySelector("tbody tr.jx-row");
      const measured = tr ? tr.getBoundingClientRect().height : 0;
      if (measured > 0) {
        rowHeight = measured;
        if (!small && Math.abs(measured - h) > 0.5) drawWindow(true);
      }
    }
  }

  let scrollPending = false;
  function onScroll() {
    if (scrollPending) return;
    scrollPending = true;
    const later = typeof requestAnimationFrame === "function" ? requestAnimationFrame : (f) => setTimeout(f, 0);
    later(() => { scrollPending = false; drawWindow(false); });
  }

  function drawMessage() {
    const m = $(".jx-message");
    m.textContent = model.get("message") || "";
    m.className = `jx-message jx-${model.get("message_kind") || "info"}`;
  }

  function drawPending() {
    const p = model.get("pending") || {};
    const box = $(".jx-pending");
    box.hidden = !p.action;
    if (!p.action) { box.innerHTML = ""; return; }
    const fields = (p.params || []).map((f) =>
      `<label class="jx-param">${esc(f.file === "params.yaml" ? f.key : `${f.file}:${f.key}`)} ` +
      `<input data-param="${esc(f.id)}" value="${esc(f.value)}"></label>`).join("");
    box.innerHTML = `<span>${esc(p.prompt)}</span> ${p.input ? `<input class="jx-answer" value="${esc(p.value || "")}">` : ""}` +
      `${fields ? `<div class="jx-params">${fields}</div>` : ""}` +
      `<button data-cmd="confirm">${p.action === "remove" ? "Remove" : "OK"}</button><button data-cmd="cancel">Cancel</button>`;
    const answer = box.querySelector(".jx-answer");
    if (answer) answer.focus();
  }

  function drawPanel() {
    const p = model.get("panel") || {};
    const box = $(".jx-panel");
    box.hidden = !p.kind;
    box.querySelector("b").textContent = p.title || "";
    const pick = (which, ids, chosen) => ids && ids.length > 1 ?
      `<label>${which} <select data-axis="${which}">${ids.map((id) =>
        `<option value="${esc(id)}" ${id === chosen ? "selected" : ""}>${esc(id.split(".").slice(1).join("."))}</option>`).join("")}</select></label> ` : "";
    const axes = p.kind === "plot" ? `<div class="jx-axes">${pick("x", p.params, p.x)}${pick("y", p.metrics, p.y)}</div>` : "";
    box.querySelector(".jx-panel-body").innerHTML = axes + (p.html || "");
  }

  function confirmPending() {
    const p = model.get("pending") || {};
    const msg = { type: "action", action: p.action, keys: p.keys, confirmed: true };
    const answer = el.querySelector(".jx-pending .jx-answer");
    if (answer) msg.arg = answer.value.trim();
    if (p.params) {
      msg.arg = {};
      el.querySelectorAll(".jx-pending [data-param]").forEach((i) => { msg.arg[i.dataset.param] = i.value; });
    }
    send(msg);
  }

  el.addEventListener("click", (ev) => {
    const t = ev.target.closest("button, th[data-sort], input.jx-select, tr.jx-row");
    if (!t) return;
    const d = t.dataset;
    if (t.matches("th[data-sort]")) send({ type: "sort", column: d.sort, add: ev.shiftKey });
    else if (d.action) send({ type: "action", action: d.action, keys: [...selected] });
    else if (d.rowAction) send({ type: "action", action: d.rowAction, keys: [d.key] });
    else if (d.star) send({ type: "star", key: d.star });
    else if (d.expand) send({ type: "expand", key: d.expand });
    else if (d.unfilter) send({ type: "unfilter", index: Number(d.unfilter) });
    // Lab-only buttons go to the panel around the table (a DOM event), not the server.
    else if (d.lab) el.dispatchEvent(new CustomEvent("jx-lab-command", { bubbles: true, detail: { command: d.lab, keys: [...selected] } }));
    else if (d.queue) send({ type: "queue", op: d.queue, jobs: Number($(".jx-jobs").value) });
    else if (d.move) send({ type: "move", column: d.move, by: Number(d.by) });
    else if (d.cmd === "add-filter") send({ type: "filter", column: $(".jx-f-col").value, op: $(".jx-f-op").value, value: $(".jx-f-val").value });
    else if (d.cmd === "columns") $(".jx-columns").hidden = !$(".jx-columns").hidden;
    else if (d.cmd === "confirm") confirmPending();
    else if (d.cmd) send({ type: d.cmd });
    else if (t.matches("input.jx-select") || t.matches("tr.jx-row")) {
      const key = t.closest("tr").dataset.key;
      if (ev.shiftKey && lastClicked) {  // a range, as in a file list
        const keys = rowsAll.map((r) => r.key);
        const [a, b] = [keys.indexOf(lastClicked), keys.indexOf(key)].sort((x, y) => x - y);
        keys.slice(a, b + 1).forEach((k) => selected.add(k));
      } else if (t.matches("input.jx-select") || ev.metaKey || ev.ctrlKey) {
        selected.has(key) ? selected.delete(key) : selected.add(key);
      } else {
        selected = new Set(selected.has(key) && selected.size === 1 ? [] : [key]);
      }
      lastClicked = key;
      syncSelection();
    }
  });
  el.addEventListener("change", (ev) => {
    const d = ev.target.dataset;
    if (d.axis) {
      const p = model.get("panel") || {};
      const x = d.axis === "x" ? ev.target.value : p.x, y = d.axis === "y" ? ev.target.value : p.y;
      send({ type: "action", action: "plot", keys: p.keys, arg: [x, y] });
    } else if (d.option) send({ type: "option", name: d.option, value: ev.target.checked });
    else if (d.hide) send({ type: "hide", column: d.hide });
  });
  el.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && ev.target.matches(".jx-pending input")) confirmPending();
    if (ev.key === "Enter" && ev.target.matches(".jx-f-val")) el.querySelector('[data-cmd="add-filter"]').click();
    if (ev.key === "Escape" && ev.target.closest(".jx-pending")) send({ type: "cancel" });
  });

  const drawAll = () => { drawToolbar(); drawTable(); };
  model.on("change:table", drawAll);
  model.on("change:prefs", drawAll);
  model.on("change:live", drawToolbar);
  model.on("change:message", drawMessage);
  model.on("change:message_kind", drawMessage);
  model.on("change:pending", drawPending);
  model.on("change:panel", drawPanel);
  model.on("change:selected", () => { selected = new Set(model.get("selected") || []); syncSelection(); });
  $(".jx-scroll").addEventListener("scroll", onScroll, { passive: true });
  const resize = typeof ResizeObserver === "function" ? new ResizeObserver(() => drawWindow(false)) : null;
  if (resize) resize.observe($(".jx-scroll"));
  drawAll(); drawMessage(); drawPending(); drawPanel();
  const ticker = setInterval(() => {
    if (!el.isConnected) { clearInterval(ticker); if (resize) resize.disconnect(); return; }
    el.querySelectorAll(".jx-elapsed[data-started]").forEach((span) => {
      span.textContent = seconds(Date.now() / 1000 - Number(span.dataset.started));
    });
  }, 1000);
  return () => { clearInterval(ticker); if (resize) resize.disconnect(); };
}

export default { render };
