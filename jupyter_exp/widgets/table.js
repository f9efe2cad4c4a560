// The experiment table's front end: draws what Python computed (the `table` state)
// and sends every click back as a message. Sorting, filtering and actions happen in
// Python (jupyter_exp/table/controller.py). One file for two hosts: the notebook
// widget loads it as an anywidget module (jupyter_exp/widgets/table.py), and the
// JupyterLab extension bundles it behind a model that talks to the server
// (labextension/src/serverModel.ts), where `model.get("host")` is "lab".
//
// Plots are Vega-Lite specs drawn with vega-embed, which this file does not import (the
// notebook loads it as plain ESM, offline): the host gives an `embed(el, spec, options)`
// function, as the `embed` prop of `render` (the Lab tab) or as
// `globalThis.jupyterExpVega.embed` (set by the lab extension on its page, where a
// notebook widget finds it). Without one the panel shows the HTML Python drew.

const ACTIONS = [
  ["apply", "Apply"], ["branch", "Branch…"], ["rename", "Rename…"], ["remove", "Remove"],
  ["push", "Push"], ["requeue", "Queue again…"], ["diff", "Diff"], ["compare", "Compare"], ["plot", "Plot"],
];
const MESSAGE_SECONDS = 8;  // an info message fades after this; an error stays twice as long
const EDITABLE = new Set(["note", "tags"]);

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

// Rows are drawn only in and near the view (10,000 experiments scroll smoothly): all
// rows have one height, and two spacer rows stand for the rows above and below.
const ALL_ROWS_UP_TO = 150;  // fewer rows than this are all drawn
// The window of drawn rows reaches OVERSCAN rows beyond each edge of the view and moves
// only when the view comes within SLACK rows of its edge: a frame that changes no row
// only scrolls (no layout or paint of the table). Each change lays out and paints every
// drawn row again (a table), so the window stays small rather than moving rarely by
// many rows (measured in Chromium: bench/lab.py).
const OVERSCAN = 12;
const SLACK = 4;
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

// The spec's data as CSV (its inline `data.values`, or its first named dataset).
function specCsv(spec) {
  const values = (spec && spec.data && spec.data.values) ||
    Object.values((spec && spec.datasets) || {}).find(Array.isArray) || [];
  const fields = [...new Set(values.flatMap((v) => Object.keys(v || {})))];
  const cell = (v) => {
    const text = v == null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [fields.map(cell).join(","), ...values.map((v) => fields.map((f) => cell(v[f])).join(","))].join("\n") + "\n";
}

function saveFile(filename, mime, text) {
  const url = URL.createObjectURL(new Blob([text], { type: mime || "text/plain" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename || "download.txt";
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Image plots whose ids differ only by a number (DVCLive's images/<name>/<step>.png) are
// one plot with a step slider; each group: {title, steps: [{step, entry}]}.
function imageGroups(entries) {
  const groups = new Map();
  for (const e of entries) {
    const numbers = e.title.match(/\d+/g) || [];
    const stem = e.title.replace(/\d+(?!.*\d)/, "#");
    const step = numbers.length ? Number(numbers[numbers.length - 1]) : 0;
    if (!groups.has(stem)) groups.set(stem, { title: stem, steps: [] });
    groups.get(stem).steps.push({ step, entry: e });
  }
  return [...groups.values()].map((g) => {
    g.steps.sort((a, b) => a.step - b.step);
    if (g.steps.length === 1) g.title = g.steps[0].entry.title;
    return g;
  });
}

function figures(entry) {
  return (entry.images || []).map((i) =>
    `<figure><img src="${esc(i.src)}" alt="${esc(i.rev)}"><figcaption>${esc(i.rev)}</figcaption></figure>`).join("");
}

// Vega's colours from the theme, so that a chart reads in JupyterLab Dark too.
function vegaConfig(el) {
  const css = typeof getComputedStyle === "function" ? getComputedStyle(el) : null;
  const v = (name, fallback) => (css && css.getPropertyValue(name).trim()) || fallback;
  const fg = v("--jp-ui-font-color1", "#222"), fg2 = v("--jp-ui-font-color2", "#555"), grid = v("--jp-border-color2", "#ddd");
  return {
    background: null,
    title: { color: fg },
    axis: { labelColor: fg2, titleColor: fg, domainColor: fg2, tickColor: fg2, gridColor: grid },
    legend: { labelColor: fg2, titleColor: fg },
    style: { "guide-label": { fill: fg2 }, "guide-title": { fill: fg } },
  };
}

function render({ model, el, embed }) {
  const lab = model.get("host") === "lab";
  el.classList.add("jx-table-widget");
  el.classList.toggle("jx-host-lab", lab);
  el.innerHTML = `
    <div class="jx-toolbar">
      <span class="jx-counts"></span>
      <span class="jx-live" title="updates while experiments run"></span>
      <button data-cmd="refresh" title="collect the experiments again">Refresh</button>
      <button data-cmd="export" title="save the table as shown (sort, filters, columns) as CSV">Export CSV</button>
      ${lab ? `<button data-lab="run" title="run an experiment with params you choose">Run with params…</button>
      <button data-lab="queue" title="queue experiments, a sweep too (-S lr=0.1,0.2)">Queue…</button>
      <button data-lab="logs" title="follow the queue's log in the sidebar">Logs</button>` : ""}
      <span class="jx-queue-ctl"><button data-queue="start" title="run the queued experiments in a thread of this kernel">▶ Run queue</button>
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
      <span class="jx-filter-note"></span>
    </div>
    <div class="jx-columns" hidden></div>
    <div class="jx-actions"></div>
    <div class="jx-pending" hidden></div>
    <div class="jx-message" role="status"><span class="jx-message-text"></span><button data-cmd="dismiss" title="dismiss">✕</button></div>
    <div class="jx-studies"></div>
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
  let drawnHead = "";  // the header's HTML as last drawn
  let studiesDrawn = "";  // the study lines' HTML as last drawn
  let rowHeight = 0;  // measured from a drawn row; 0 until then
  let rowHtml = () => "";
  let editing = null;  // the cell being edited: {key, column, value}
  let messageTimer = null;
  let redrawing = false;  // rows are being replaced: an editor losing focus then is not done
  let plotViews = [];  // vega views in the panel, finalized when it is redrawn
  let plotGroups = [];  // the panel's image groups, for their step sliders

  $(".jx-actions").innerHTML = ACTIONS.map(([a, label]) =>
    `<button data-action="${a}" disabled>${label}</button>`).join("") +
    `<button data-annotate="note" disabled title="write a note on the selected experiment (kept in git notes)">Note…</button>` +
    `<button data-annotate="tags" disabled title="tag the selected experiment">Tags…</button>` +
    `<span class="jx-annotate" hidden></span><span class="jx-selection"></span>`;

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
        (a === "diff" && n > 2) || (a === "compare" && n < 2);
    });
    const one = n === 1 ? rowsAll.find((r) => selected.has(r.key)) : null;
    el.querySelectorAll(".jx-actions [data-annotate]").forEach((b) => {
      b.disabled = !one || one.can_note === false || one.kind === "workspace";
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
    if (lab) {  // where the Lab's queue runs is chosen in its sidebar; the host says where
      const where = model.get("queue_where") || "in a worker process on the server's machine";
      el.querySelector('[data-queue="start"]').title = `run the queued experiments ${where} (where: the sidebar's Queue section)`;
    }
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
      if (keepCol) col.value = keepCol;
      drawOperators();
      if (keepOp && [...op.options].some((o) => o.value === keepOp)) op.value = keepOp;
    }
    const chips = t.filters || (prefs.filters || []).map((f, i) => ({ ...f, index: i, label: f.column, active: true }));
    $(".jx-chips").innerHTML = chips.map((f) => {
      const text = f.text || `${f.label} ${f.op === "empty" ? "is empty" : f.op} ${f.value}`;
      return `<span class="jx-chip${f.active ? "" : " jx-inactive"}" title="${f.active ? esc(f.column) : "does not apply to the columns shown now"}">${esc(text)}` +
        `<button data-unfilter="${f.index}" title="remove this filter">×</button></span>`;
    }).join("");
    drawStudies(t.studies || []);
    const note = $(".jx-filter-note");
    note.textContent = t.filter_note ? "ⓘ" : "";
    note.title = t.filter_note || "";
    $(".jx-columns").innerHTML = (t.all_columns || []).map((c) =>
      `<div class="jx-colrow"><label><input type="checkbox" data-hide="${esc(c.id)}" ${c.hidden ? "" : "checked"}>` +
      ` ${esc(c.group === "info" ? c.label : `${c.group}: ${c.label}`)}</label>` +
      `<button data-move="${esc(c.id)}" data-by="-1" title="move left">←</button>` +
      `<button data-move="${esc(c.id)}" data-by="1" title="move right">→</button></div>`).join("");
  }

  // One line per search study with trials in the table; a click shows only its trials
  // (a Trial-column filter, a chip like any), a second click all again.
  function drawStudies(studies) {
    const html = studies.map((s) =>
      `<button class="jx-study${s.filtered ? " jx-study-on" : ""}" data-study="${esc(s.name)}" aria-pressed="${s.filtered}" ` +
      `title="${s.filtered ? "show every experiment again" : "show only this study's trials"}">` +
      `<b>Study ${esc(s.name)}:</b> ${esc(s.line)}</button>`).join("");
    if (html !== studiesDrawn) $(".jx-studies").innerHTML = studiesDrawn = html;  // (a live refresh leaves a hovered line alone)
  }

  // The operators that fit the chosen column's type (all of them for an unknown type).
  function drawOperators() {
    const t = model.get("table") || {};
    const col = $(".jx-f-col"), op = $(".jx-f-op");
    const type = ((t.all_columns || []).find((c) => c.id === col.value) || {}).type;
    const ops = ((t.operators_by_type || {})[type]) || t.operators || [];
    const keep = op.value;
    op.innerHTML = ops.map((o) => `<option value="${esc(o)}">${esc(o === "empty" ? "is empty" : o)}</option>`).join("");
    if (ops.includes(keep)) op.value = keep;
  }

  function editorHtml() {
    const tags = editing.column === "tags";
    return `<input class="jx-edit-input" data-edit-key="${esc(editing.key)}" data-edit-column="${esc(editing.column)}" ` +
      `value="${esc(editing.text)}" placeholder="${tags ? "tags, comma separated" : "a note"}" aria-label="${tags ? "tags" : "note"}">`;
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
    // Rewritten only when it changed: a live update (a running row's step) leaves the
    // header as it is, so a click on it that the update interrupts is not lost.
    const headHtml =
      `<tr class="jx-groups"><th colspan="3"></th>${groups.map(([g, n]) =>
        `<th colspan="${n}" class="jx-group-${esc(g)}">${esc(g)}</th>`).join("")}</tr>` +
      `<tr><th></th><th></th><th></th>${cols.map((c) =>
        `<th data-sort="${esc(c.id)}" class="jx-col-${esc(c.group)}" title="click: sort; shift+click: add to the sort${c.file ? "; " + esc(c.file) : ""}">` +
        `${esc(c.label)}${mark(c.id)}</th>`).join("")}</tr>`;
    if (headHtml !== drawnHead) {
      $("thead").innerHTML = headHtml;
      drawnHead = headHtml;
    }
    const bestKeys = new Set((t.studies || []).map((s) => s.best_key).filter(Boolean));
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
        if (editing && !editing.bar && editing.key === r.key && editing.column === c.id) return `<td class="jx-editing">${editorHtml()}</td>`;
        const why = v === "!" ? ((r.errors || {})[c.id] || c.error || "") : "";
        const edit = c.editable && EDITABLE.has(c.id) && r.can_note !== false && r.kind !== "workspace" ?
          `<button class="jx-edit" data-edit="${esc(c.id)}" data-key="${esc(r.key)}" title="edit the ${c.id === "tags" ? "tags" : "note"}">✎</button>` : "";
        return `<td class="jx-t-${esc(c.type)}${why ? " jx-why" : ""}"${why ? ` title="${esc(why)}"` : ""}>${esc(v)}${edit}</td>`;
      }).join("");
      const canStar = r.kind === "experiment" && r.can_star !== false;
      const canApply = isExp && r.can_apply !== false;
      const skip = r.filters_skip ? ` title="${esc(t.filter_note || "filters do not apply to this row")}"` : "";
      const best = bestKeys.has(r.key) ? " jx-best" : "";
      return `<tr data-key="${esc(r.key)}" class="jx-row jx-${esc(r.kind)}${best}${selected.has(r.key) ? " jx-selected" : ""}${r.filters_skip ? " jx-skip" : ""}"${skip}>` +
        `<td><input type="checkbox" class="jx-select" aria-label="select ${esc(r.cells[0])}" ${selected.has(r.key) ? "checked" : ""}></td>` +
        `<td>${canStar ? `<button class="jx-star" data-star="${esc(r.key)}" title="star">${r.starred ? "★" : "☆"}</button>` : ""}</td>` +
        `<td>${canApply ? `<button class="jx-apply" data-row-action="apply" data-key="${esc(r.key)}" title="apply to the workspace">Apply</button>` : ""}</td>` +
        cells + "</tr>";
    };
    rowsAll = t.rows || [];
    const fixed = rowsAll.length > ALL_ROWS_UP_TO;
    const widths = fixed ? ["2.2em", "2.2em", "5em", ...columnWidths(rowsAll, cols)] : [];
    $("colgroup").innerHTML = widths.map((w) => `<col style="width:${w}">`).join("");
    $(".jx-table").classList.toggle("jx-fixed", fixed);
    $(".jx-table").style.width = fixed ? `calc(${widths.join(" + ")})` : "";
    drawWindow(true);
    focusEditor();
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
    const covered = drawn[0] <= Math.max(0, first - SLACK) && drawn[1] >= Math.min(n, end + SLACK);
    if (!force && !small && drawn[1] <= n && covered) return;
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
      redrawing = true;
      try { body.innerHTML = spacer(a) + rowsHtml(a, b) + spacer(n - b); } finally { redrawing = false; }
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

  // A message fades after MESSAGE_SECONDS here (not by the server's clock: the two may
  // differ); one that was already old when the table was drawn is not shown at all.
  function drawMessage(first) {
    const m = $(".jx-message");
    const text = model.get("message") || "";
    const kind = model.get("message_kind") || "info";
    const said = Number(model.get("message_time") || 0);
    const life = MESSAGE_SECONDS * (kind === "error" ? 2 : 1);
    const stale = first === true && said > 0 && Date.now() / 1000 - said > life;
    m.querySelector(".jx-message-text").textContent = text;
    m.className = `jx-message jx-${kind}`;
    m.hidden = !text || stale;
    clearTimeout(messageTimer);
    if (text && !stale) {
      messageTimer = setTimeout(() => {
        m.classList.add("jx-fading");
        messageTimer = setTimeout(() => { m.hidden = true; }, 600);
      }, life * 1000);
    }
  }

  function onDownload() {
    const d = model.get("download") || {};
    if (d.filename && typeof d.text === "string") saveFile(d.filename, d.mime, d.text);
  }

  function focusEditor() {
    const input = el.querySelector(".jx-edit-input");
    if (input && document.activeElement !== input) {
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    }
  }

  // Edits a note or tags: in its cell (`bar` false), or in the actions bar for a row
  // whose table has no Note/Tags column yet (the first note of a project).
  function startEdit(key, column, bar) {
    const row = rowsAll.find((r) => r.key === key);
    const i = ((model.get("table") || {}).columns || []).findIndex((c) => c.id === column);
    if (!row || (i < 0 && !bar)) return;
    const v = i < 0 ? "" : row.cells[i];
    const value = v === "-" || v === "!" ? "" : String(v ?? "");
    editing = { key, column, value, text: value, bar: !!bar };
    const box = $(".jx-annotate");
    box.hidden = !bar;
    box.innerHTML = bar ? `${column === "tags" ? "Tags" : "Note"} of ${esc(row.cells[0])}: ${editorHtml()}` : "";
    if (!bar) drawWindow(true);
    focusEditor();
  }

  function finishEdit(save) {
    if (!editing) return;
    const input = el.querySelector(".jx-edit-input");
    const { key, column, value } = editing;
    const text = (input ? input.value : editing.text).trim();
    const bar = editing.bar;
    editing = null;
    $(".jx-annotate").hidden = true;
    $(".jx-annotate").innerHTML = "";
    if (save && text !== value) {
      if (column === "note") send({ type: "note", key, text });
      else {
        const list = (s) => s.split(",").map((x) => x.trim()).filter(Boolean);
        const before = list(value), after = list(text);
        send({ type: "tag", key, add: after.filter((x) => !before.includes(x)), remove: before.filter((x) => !after.includes(x)) });
      }
    }
    if (!bar) drawWindow(true);
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
    box.dataset.kind = p.kind || "";
    box.querySelector("b").textContent = p.title || "";
    plotViews.forEach((v) => { try { v.finalize(); } catch (e) { /* already gone */ } });
    plotViews = [];
    const body = box.querySelector(".jx-panel-body");
    if (p.kind === "compare" && p.columns) body.innerHTML = compareHtml(p);
    else if (p.kind === "vega" && p.specs) drawPlots(p, body);
    else {
      const pick = axisPickers(p);
      body.innerHTML = (p.kind === "plot" ? `<div class="jx-axes">${pick}</div>` : "") + (p.html || "");
    }
  }

  function axisPickers(p) {
    const pick = (which, ids, chosen) => ids && ids.length > 1 ?
      `<label>${which} <select data-axis="${which}">${ids.map((id) =>
        `<option value="${esc(id)}" ${id === chosen ? "selected" : ""}>${esc(id.split(".").slice(1).join("."))}</option>`).join("")}</select></label> ` : "";
    return pick("x", p.params, p.x) + pick("y", p.metrics, p.y) + trendPicker(p);
  }

  // The DVCLive history the panel draws over steps: one (the first by default) or every one.
  function trendPicker(p) {
    const metrics = p.trend_metrics || [];
    const drawn = (p.specs || []).some((s) => s.kind === "trend" || String(s.id).startsWith("trend:"));
    if (metrics.length < 2 || !drawn) return "";  // a host that hides the trends hides its picker too
    const options = [...metrics.map((m) => [m, m]), ["", "every metric"]].map(([v, l]) =>
      `<option value="${esc(v)}" ${v === p.trend_metric ? "selected" : ""}>${esc(l)}</option>`).join("");
    return `<label title="the DVCLive history drawn over steps">over steps <select data-trend-metric="1">${options}</select></label> `;
  }

  function compareHtml(p) {
    const values = p.columns.filter((c) => c.kind === "value");
    const picker = `<label class="jx-ref-pick">reference <select data-reference="1">${values.map((c) =>
      `<option value="${esc(c.id)}" ${c.id === p.reference ? "selected" : ""}>${esc(c.label)}</option>`).join("")}</select></label>`;
    const head = p.columns.map((c) =>
      `<th class="jx-cmp-${esc(c.kind)}${c.reference ? " jx-ref" : ""}"${c.reference ? ' title="the reference: deltas are against it"' : ""}>` +
      `${esc(c.label)}${c.reference ? ' <span class="jx-ref-mark">reference</span>' : ""}</th>`).join("");
    const rows = (p.rows || []).map((r) => `<tr class="jx-cmp-${esc(r.group)}" title="${esc(r.file || "")}">${r.cells.map((v, i) => {
      const c = p.columns[i] || {};
      const raw = (r.values || [])[i];
      const sign = c.kind === "delta" && typeof raw === "number" && raw !== 0 ? (raw > 0 ? " jx-up" : " jx-down") : "";
      return `<td class="jx-cmp-${esc(c.kind)}${c.reference ? " jx-ref" : ""}${sign}">${esc(v)}</td>`;
    }).join("")}</tr>`).join("");
    const empty = (p.rows || []).length ? "" : '<div class="jx-plot-empty">The selected rows have the same params and metrics.</div>';
    return `<div class="jx-compare">${picker}<table class="jx-compare-table"><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>${empty}</div>`;
  }

  const MANY_LINES = 100;  // parallel coordinates past this many lines: canvas

  function drawPlots(p, body) {
    const run = embed || (globalThis.jupyterExpVega && globalThis.jupyterExpVega.embed);
    const images = p.specs.filter((s) => s.kind === "image");
    const charts = p.specs.filter((s) => s.spec && s.kind !== "image");
    if (!run) {  // no vega on this page: the charts as Python drew them
      body.innerHTML = `<div class="jx-axes">${axisPickers(p)}</div>` + (p.html || "");
      return;
    }
    plotGroups = imageGroups(images);
    const errors = p.specs.filter((s) => s.kind === "error");
    // y: also the metric over commits; the trend picker sits with the axes
    const scatter = charts.some((s) => s.kind === "scatter" || s.kind === "commits" || s.kind === "trend");
    body.innerHTML = (scatter ? `<div class="jx-axes">${axisPickers(p)}</div>` : "") +
      `<div class="jx-plots">${charts.map((s) =>
        `<div class="jx-plot jx-plot-${esc(s.kind)}" data-plot="${esc(s.id)}"><div class="jx-plot-tools">` +
        `<button data-csv="${esc(s.id)}" title="save this chart's data as CSV">CSV</button></div><div class="jx-vega"></div></div>`).join("")}` +
      plotGroups.map((g, i) => `<div class="jx-plot-images" data-images="${i}"><b>${esc(g.title)}</b>` +
        (g.steps.length > 1 ? ` <label>step <input type="range" data-step-group="${i}" min="0" max="${g.steps.length - 1}" value="${g.steps.length - 1}">` +
          ` <span class="jx-step">${g.steps[g.steps.length - 1].step}</span></label>` : "") +
        `<div class="jx-figures">${figures(g.steps[g.steps.length - 1].entry)}</div></div>`).join("") +
      errors.map((e) => `<div class="jx-plot-empty">${esc(e.title)}: ${esc(e.message)}</div>`).join("") +
      (p.specs.length ? "" : '<div class="jx-plot-empty">No plots, metrics over steps or numeric params to plot.</div>') +
      "</div>";
    const options = { renderer: "svg", actions: { export: true, source: false, compiled: false, editor: false }, config: vegaConfig(el) };
    const shown = model.get("panel");
    const targets = body.querySelectorAll(".jx-plot .jx-vega");
    charts.forEach((s, i) => {
      const target = targets[i];
      // Hundreds of lines draw ~40% faster on a canvas (bench/widget.py --parallel); export stays PNG and SVG.
      const many = s.kind === "parallel" && ((s.spec.data || {}).values || []).length > MANY_LINES;
      Promise.resolve().then(() => run(target, s.spec, many ? { ...options, renderer: "canvas" } : options)).then((result) => {
        if (model.get("panel") !== shown) { if (result && result.finalize) result.finalize(); return; }
        if (result) plotViews.push(result);
      }).catch((err) => {  // this chart as Python drew it, and why vega did not
        const fallback = document.createElement("div");
        fallback.innerHTML = p.html || "";
        const drawn = [...fallback.querySelectorAll("[data-plot]")].find((d) => d.dataset.plot === s.id);
        target.innerHTML = (drawn ? drawn.innerHTML : "") + `<div class="jx-plot-empty">Vega: ${esc(err && err.message || err)}</div>`;
      });
    });
  }

  function showStep(input) {
    const g = plotGroups[Number(input.dataset.stepGroup)];
    const at = g.steps[Number(input.value)];
    const box = input.closest(".jx-plot-images");
    box.querySelector(".jx-step").textContent = at.step;
    box.querySelector(".jx-figures").innerHTML = figures(at.entry);
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
    if (ev.target.closest(".jx-edit-input")) return;
    const t = ev.target.closest("button, th[data-sort], input.jx-select, tr.jx-row");
    if (!t) return;
    const d = t.dataset;
    if (t.matches("th[data-sort]")) send({ type: "sort", column: d.sort, add: ev.shiftKey });
    else if (d.action) send({ type: "action", action: d.action, keys: [...selected] });
    else if (d.rowAction) send({ type: "action", action: d.rowAction, keys: [d.key] });
    else if (d.star) send({ type: "star", key: d.star });
    else if (d.expand) send({ type: "expand", key: d.expand });
    else if (d.unfilter) send({ type: "unfilter", index: Number(d.unfilter) });
    else if (d.study) send({ type: "study", name: d.study });
    else if (d.edit) startEdit(d.key, d.edit, false);
    else if (d.annotate) startEdit([...selected][0], d.annotate, true);
    else if (d.csv) {
      const s = ((model.get("panel") || {}).specs || []).find((x) => x.id === d.csv);
      if (s) saveFile(`${s.title.replace(/[^\w.-]+/g, "_") || "plot"}.csv`, "text/csv", specCsv(s.spec));
    }
    else if (d.cmd === "export") send({ type: "export", format: "csv" });
    else if (d.cmd === "reset") {
      $(".jx-f-val").value = "";
      $(".jx-f-col").selectedIndex = 0;
      drawOperators();
      $(".jx-f-op").selectedIndex = 0;
      send({ type: "reset" });
    }
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
      send({ type: "action", action: "plot", keys: p.keys, arg: [x, y, ...(typeof p.trend_metric === "string" ? [p.trend_metric] : [])] });
    } else if (d.trendMetric) {
      const p = model.get("panel") || {};
      send({ type: "action", action: "plot", keys: p.keys, arg: [p.x || "", p.y || "", ev.target.value] });
    } else if (d.reference) {
      const p = model.get("panel") || {};
      send({ type: "action", action: "compare", keys: p.keys, arg: ev.target.value });
    } else if (ev.target.matches(".jx-f-col")) drawOperators();
    else if (d.option) send({ type: "option", name: d.option, value: ev.target.checked });
    else if (d.hide) send({ type: "hide", column: d.hide });
  });
  el.addEventListener("input", (ev) => {
    if (ev.target.dataset.stepGroup) showStep(ev.target);
    if (editing && ev.target.matches(".jx-edit-input")) editing.text = ev.target.value;  // kept across a redraw
  });
  el.addEventListener("focusout", (ev) => {
    // Leaving the editor saves it, unless a redraw (a live update) replaced it.
    if (ev.target.matches(".jx-edit-input") && !redrawing && editing) finishEdit(true);
  });
  el.addEventListener("keydown", (ev) => {
    if (ev.target.matches(".jx-edit-input")) {
      if (ev.key === "Enter") { ev.preventDefault(); finishEdit(true); }
      if (ev.key === "Escape") { ev.preventDefault(); finishEdit(false); }
      return;
    }
    if (ev.key === "Enter" && ev.target.matches(".jx-pending input")) confirmPending();
    if (ev.key === "Enter" && ev.target.matches(".jx-f-val")) el.querySelector('[data-cmd="add-filter"]').click();
    if (ev.key === "Escape" && ev.target.closest(".jx-pending")) send({ type: "cancel" });
  });

  const drawAll = () => { drawToolbar(); drawTable(); };
  model.on("change:table", drawAll);
  model.on("change:prefs", drawAll);
  model.on("change:live", drawToolbar);
  model.on("change:queue_where", drawToolbar);
  model.on("change:message", drawMessage);
  model.on("change:message_kind", drawMessage);
  model.on("change:message_time", drawMessage);
  model.on("change:download", onDownload);
  model.on("change:pending", drawPending);
  model.on("change:panel", drawPanel);
  model.on("change:selected", () => { selected = new Set(model.get("selected") || []); syncSelection(); });
  $(".jx-scroll").addEventListener("scroll", onScroll, { passive: true });
  const resize = typeof ResizeObserver === "function" ? new ResizeObserver(() => drawWindow(false)) : null;
  if (resize) resize.observe($(".jx-scroll"));
  drawAll(); drawMessage(true); drawPending(); drawPanel();
  const ticker = setInterval(() => {
    if (!el.isConnected) { clearInterval(ticker); if (resize) resize.disconnect(); return; }
    el.querySelectorAll(".jx-elapsed[data-started]").forEach((span) => {
      span.textContent = seconds(Date.now() / 1000 - Number(span.dataset.started));
    });
  }, 1000);
  return () => {
    clearInterval(ticker); clearTimeout(messageTimer);
    if (resize) resize.disconnect();
    plotViews.forEach((v) => { try { v.finalize(); } catch (e) { /* already gone */ } });
  };
}

export default { render };
