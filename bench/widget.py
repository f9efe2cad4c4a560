"""Benchmarks of the experiment table widget (issue 7's goals):

- building the table of N experiments (collect + view + its JSON) in a fresh kernel
  and again, and drawing it in Chromium with the widget's own front-end code;
- the kernel's CPU while the table follows two experiments running (checkpoints);
- parallel coordinates over N experiments (issue 16: 1,000 under 1 s): the Plot
  panel's spec built in Python, then drawn by vega-embed in Chromium, as SVG and on a
  canvas (the panel draws past 100 lines on a canvas). ``python bench/widget.py
  --parallel 1000 [--node-modules labextension/node_modules]``.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
WIDGET_JS = Path(__file__).resolve().parent.parent / "jupyter_exp" / "widgets" / "table.js"

BUILD = """
import json, sys, time
t = time.perf_counter()
from jupyter_exp.widgets import ExperimentTableWidget
times = []
for _ in range({repeat} + 1):
    t = time.perf_counter()
    w = ExperimentTableWidget(live=False)
    payload = json.dumps(w.table)
    w._repr_mimebundle_()
    times.append((time.perf_counter() - t) * 1000)
    w.close()
json.dump(w.table, open(sys.argv[1], "w"))
print(len(payload) // 1024, " ".join(f"{{x:.3f}}" for x in times))
"""

PAGE = """<!doctype html><html><body><div id="root"></div><script type="module">
import widget from "/table.js";
const table = await (await fetch("/table.json")).json();
const state = {table, prefs: {sort: [["metrics.acc", "desc"]], filters: []}, selected: [], message: "",
               message_kind: "", pending: {}, panel: {}, live: true};
const model = {get: (k) => state[k], set: (k, v) => { state[k] = v; }, save_changes() {}, on() {}, send() {}};
const times = [];
for (let i = 0; i < 5; i++) {
  const el = document.createElement("div");
  document.getElementById("root").replaceChildren(el);
  const t = performance.now();
  widget.render({model, el});
  el.getBoundingClientRect();  // force layout: the table is drawn, not just built
  times.push(performance.now() - t);
}
window.renderTimes = times;
</script></body></html>"""


def bench_table(project: Path, size: int, repeat: int, rows: dict, row_cls) -> None:
    out_json = project / ".dvc" / "tmp" / "table-bench.json"
    text = subprocess.run(
        [sys.executable, "-c", BUILD.format(repeat=repeat), str(out_json)],
        cwd=project,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    kb, times = int(text[0]), [float(x) for x in text[1:]]
    rows["table_first"] = row_cls(
        f"table widget, {size} exps: built (first in a kernel)", [times[0]], note=f"{kb} KB synced"
    )
    rows["table_again"] = row_cls(f"table widget, {size} exps: built (again)", times[1:])
    drawn = _draw_in_chromium(out_json)
    if drawn:
        rows["table_drawn"] = row_cls(f"table widget, {size} exps: drawn in Chromium (front end)", drawn)


def _draw_in_chromium(table_json: Path) -> list[float]:
    """Render the widget's front end on a page of its own; [] without a browser."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return []
    if not Path(CHROMIUM).exists():
        return []
    files = {"/": PAGE.encode(), "/table.js": WIDGET_JS.read_bytes(), "/table.json": table_json.read_bytes()}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = files.get(self.path.split("?")[0])
            self.send_response(200 if body is not None else 404)
            self.send_header(
                "Content-Type",
                "text/javascript"
                if self.path.endswith(".js")
                else "application/json"
                if self.path.endswith(".json")
                else "text/html",
            )
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
            page.wait_for_function("window.renderTimes !== undefined", timeout=60_000)
            times = page.evaluate("window.renderTimes")
            browser.close()
            return times
    finally:
        server.shutdown()


HOST = """
import resource, sys, time
from jupyter_exp.widgets import ExperimentTableWidget
w = ExperimentTableWidget(live=True)
updates = []
w.observe(lambda change: updates.append(time.perf_counter()), names="table")
start_cpu, start = time.process_time(), time.perf_counter()
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()  # until the runs are over
cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start
print(f"{cpu * 1000:.1f} {wall * 1000:.1f} {len(updates)}")
w.close()
"""

SLOW_TRAIN = """import json, os, sys, time
from jupyter_exp import live
steps = int(sys.argv[1])
state = json.load(open("model.json")) if os.path.exists("model.json") else {"step": 0}
for step in range(state["step"], steps):
    time.sleep(0.25)
    state = {"step": step + 1}
    json.dump(state, open("model.json", "w"))
    live.log_metric("loss", 1 / (step + 1))
    live.next_step(total=steps)
"""


def bench_live(
    project: Path, steps: int, ours_cmd, rows: dict, row_cls, others: int = 0, make_experiments=None
) -> None:
    """CPU of a kernel holding a live table while two checkpoint experiments run, with
    ``others`` finished experiments in the table besides them."""
    (project / "slow.py").write_text(SLOW_TRAIN)
    (project / "dvc.yaml").write_text(
        f"stages:\n  train:\n    cmd: python slow.py {steps}\n    deps: [slow.py]\n"
        "    outs:\n    - model.json:\n        checkpoint: true\n"
        "    metrics:\n    - dvclive/metrics.json:\n        cache: false\n"
    )
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(["git", "commit", "-qm", "slow checkpoints"], cwd=project, check=True)
    if others:
        (project / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
        make_experiments(project, others)
        (project / "dvc.lock").unlink()
    for name in ("a", "b"):
        subprocess.run(ours_cmd("run", "--queue", "-n", name), cwd=project, check=True, capture_output=True)
    host = subprocess.Popen(
        [sys.executable, "-c", HOST], cwd=project, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert host.stdout.readline().strip() == "ready"
    subprocess.run(ours_cmd("run", "--run-all", "-j", "2"), cwd=project, check=True, capture_output=True)
    time.sleep(1.5)  # the last refresh
    out, _ = host.communicate("stop\n", timeout=60)
    cpu, wall, updates = out.split()
    share = 100 * float(cpu) / float(wall)
    besides = f", {others} more in the table" if others else ""
    rows[f"live_cpu_{others}"] = row_cls(
        f"live table while 2 experiments run ({steps} steps each{besides}): kernel CPU ms",
        [float(cpu)],
        note=f"{share:.1f}% of one core over {float(wall) / 1000:.1f} s, {updates} table updates",
    )


# -- parallel coordinates over many experiments, drawn with vega-embed -------------------
VEGA_FILES = ("vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js", "vega-embed/build/vega-embed.min.js")
PARALLEL_PAGE = """<!doctype html><html><body><div id="root"></div>
<script src="/vega.min.js"></script><script src="/vega-lite.min.js"></script><script src="/vega-embed.min.js"></script>
<script>
(async () => {
  const spec = await (await fetch("/spec.json")).json();
  const out = {};
  for (const renderer of ["svg", "canvas"]) {
    const times = [];
    for (let i = 0; i < 4; i++) {
      const el = document.createElement("div");
      document.getElementById("root").replaceChildren(el);
      const t = performance.now();
      const result = await vegaEmbed(el, spec, {renderer, actions: false});
      await result.view.runAsync();
      el.getBoundingClientRect();  // laid out: drawn, not just built
      times.push(performance.now() - t);
      result.finalize();
    }
    out[renderer] = times;
  }
  window.parallelTimes = out;
})();
</script></body></html>"""


def parallel_rows(size: int, params: int = 6, metrics: int = 3) -> tuple[list, list]:
    """``size`` experiment rows (and their columns) with ``params`` params that vary and ``metrics`` metrics."""
    import random

    from jupyter_exp.experiments.columns import columns
    from jupyter_exp.experiments.records import ExpData, ExpRow
    from jupyter_exp.values import FileValues

    rnd = random.Random(16)
    rows = []
    for i in range(size):
        p = {f"p{j}": round(rnd.uniform(0, 10 ** (j % 3)), 4) for j in range(params)}
        m = {f"m{j}": round(rnd.random(), 5) for j in range(metrics)}
        data = ExpData(params={"params.yaml": FileValues(p)}, metrics={"metrics.json": FileValues(m)})
        rows.append(ExpRow(f"{i:040x}", "experiment", data, name=f"exp-{i}", baseline="0" * 40, state="success"))
    return rows, columns(rows)


def bench_parallel(size: int, rows: dict, row_cls, node_modules: Path) -> None:
    """Parallel coordinates of ``size`` experiments: the spec built in Python, then
    drawn by vega-embed in Chromium (SVG, as the panel draws, and canvas)."""
    from jupyter_exp.table.plots import parallel

    exps, cols = parallel_rows(size)
    times, spec = [], None
    for _ in range(3):
        t = time.perf_counter()
        spec = parallel(exps, cols, {})
        times.append((time.perf_counter() - t) * 1000)
    rows["parallel_spec"] = row_cls(f"parallel coordinates, {size} exps: spec built (Python)", times)
    files = {"/spec.json": json.dumps(spec).encode()}
    for name in VEGA_FILES:
        files["/" + name.rsplit("/", 1)[1]] = (node_modules / name).read_bytes()
    drawn = _page_times(PARALLEL_PAGE, files, "window.parallelTimes")
    for renderer, values in (drawn or {}).items():
        note = "first is a cold vega" if renderer == "svg" else ""
        rows[f"parallel_{renderer}"] = row_cls(
            f"parallel coordinates, {size} exps: drawn in Chromium ({renderer})", values, note=note
        )


def _page_times(page: str, files: dict[str, bytes], result: str):
    """``result`` evaluated on ``page`` served with ``files`` in headless Chromium; None without a browser."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    files = {"/": page.encode(), **files}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = files.get(self.path.split("?")[0])
            self.send_response(200 if body is not None else 404)
            kind = "text/javascript" if self.path.endswith(".js") else "application/json"
            self.send_header("Content-Type", "text/html" if self.path == "/" else kind)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
            page_ = browser.new_page()
            page_.goto(f"http://127.0.0.1:{server.server_address[1]}/")
            page_.wait_for_function(f"{result} !== undefined", timeout=120_000)
            found = page_.evaluate(result)
            browser.close()
            return found
    finally:
        server.shutdown()


def main(argv: list[str] | None = None) -> int:
    """``python bench/widget.py --parallel N``: parallel coordinates over N experiments."""
    import argparse
    import statistics

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--parallel", type=int, default=1000, help="experiments in the parallel coordinates")
    parser.add_argument(
        "--node-modules", type=Path, default=Path(__file__).resolve().parent.parent / "labextension" / "node_modules"
    )
    args = parser.parse_args(argv)

    class Row:
        def __init__(self, label: str, values: list[float], note: str = "") -> None:
            self.label, self.values, self.note = label, values, note

    rows: dict = {}
    bench_parallel(args.parallel, rows, Row, args.node_modules)
    for row in rows.values():
        best, median = min(row.values), statistics.median(row.values)
        runs = " ".join(f"{v:.0f}" for v in row.values)
        print(f"{row.label}: best {best:.0f} ms, median {median:.0f} ms; runs {runs} {row.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
