"""Benchmarks of the experiment table widget (issue 7's goals):

- building the table of N experiments (collect + view + its JSON) in a fresh kernel
  and again, and drawing it in Chromium with the widget's own front-end code;
- the kernel's CPU while the table follows two experiments running (checkpoints).
"""

from __future__ import annotations

import http.server
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
