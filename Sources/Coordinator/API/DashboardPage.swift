/// The fleet dashboard served at `/`: one self-contained page (inline CSS and JS, no external
/// assets) that reads the JSON API with the operator's token. The token comes from the URL
/// fragment (`/#token=...`), which browsers never send to the server, is kept in
/// sessionStorage and removed from the address bar, so it reaches neither server logs nor
/// browser history. Everything the API returns is inserted as text, never as HTML.
enum DashboardPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Flotilla fleet</title>
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f5f6f8; }
        header { background: #1d2330; color: #fff; padding: 10px 20px; display: flex; gap: 20px; align-items: baseline; }
        header h1 { font-size: 18px; margin: 0; }
        #status { font-size: 12px; opacity: .8; }
        main { padding: 10px 20px; }
        section { background: #fff; border-radius: 6px; padding: 10px 16px; margin: 12px 0; box-shadow: 0 1px 2px #0002; }
        h2 { font-size: 16px; margin: 4px 0 8px; }
        h3 { font-size: 14px; margin: 10px 0 4px; }
        table { border-collapse: collapse; }
        th, td { padding: 3px 10px 3px 0; text-align: left; vertical-align: top; }
        th { font-weight: 600; border-bottom: 1px solid #ccd; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        .bar { display: inline-flex; width: 140px; height: 10px; background: #e3e6ec; border-radius: 3px; overflow: hidden; vertical-align: middle; }
        .bar .ok { background: #2f9e44; } .bar .bad { background: #e03131; }
        .pass { color: #2f9e44; } .fail { color: #e03131; font-weight: 600; }
        .plots { display: flex; flex-wrap: wrap; gap: 16px; }
        figure { margin: 0; } figcaption { font-size: 12px; color: #556; }
        svg.plot { background: #fbfbfd; border: 1px solid #e3e6ec; }
        .legend span { display: inline-block; margin-right: 10px; font-size: 12px; }
        .legend i { display: inline-block; width: 10px; height: 3px; margin-right: 4px; vertical-align: middle; }
        #error { color: #e03131; font-weight: 600; }
        </style>
        </head>
        <body>
        <header><h1>Flotilla fleet</h1><span id="status">loading…</span></header>
        <main>
        <div id="error"></div>
        <section id="devices"><h2>Devices per class and release</h2><div class="content"></div></section>
        <section id="rollouts"><h2>Rollouts</h2><div class="content"></div></section>
        <section id="telemetry"><h2>Latency and accuracy over time</h2><div class="content"></div></section>
        </main>
        <script>
        "use strict";
        (function () {
          const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
          if (m) {
            sessionStorage.setItem("flotillaToken", decodeURIComponent(m[1]));
            history.replaceState(null, "", location.pathname + location.search);
          }
        })();
        const token = sessionStorage.getItem("flotillaToken");
        const colors = ["#1c7ed6", "#e8590c", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599", "#c2255c", "#5c940d"];

        function el(tag, attrs, ...children) {
          const ns = ["svg", "polyline", "line", "text", "g", "rect"].includes(tag) ? "http://www.w3.org/2000/svg" : null;
          const node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
          for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
          for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
          return node;
        }
        function table(headers, rows) {
          return el("table", {}, el("tr", {}, ...headers.map(h => el("th", {}, h))),
            ...rows.map(r => el("tr", {}, ...r.map(c => c instanceof Node ? el("td", {}, c) :
              el("td", typeof c === "number" ? { class: "num" } : {}, c ?? "-")))));
        }
        function fmt(v, digits) { return v === null || v === undefined ? "-" : Number(v).toFixed(digits); }
        function latency(us) { return us === null || us === undefined ? "-" : us >= 10000 ? (us / 1000).toFixed(1) + " ms" : Math.round(us) + " µs"; }
        function time(ms) { return ms ? new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z") : "-"; }
        function bar(updated, failed, total) {
          const ok = total ? 100 * updated / total : 0, bad = total ? 100 * failed / total : 0;
          return el("span", { class: "bar", title: updated + " updated, " + failed + " failed of " + total },
            el("span", { class: "ok", style: "width:" + ok + "%" }), el("span", { class: "bad", style: "width:" + bad + "%" }));
        }
        async function api(path) {
          const r = await fetch(path, { headers: { "Authorization": "Bearer " + token } });
          const body = await r.json().catch(() => ({}));
          if (!r.ok) throw new Error((body.message || r.statusText) + " (" + r.status + " " + path + ")");
          return body;
        }
        function replace(id, ...nodes) { document.querySelector("#" + id + " .content").replaceChildren(...nodes); }

        function renderDevices(devices) {
          const groups = new Map();
          for (const d of devices) {
            const release = d.running ? d.running.modelName + " " + d.running.modelVersion : "(none)";
            const key = d.hardwareClass + "\u0000" + release;
            const g = groups.get(key) || { cls: d.hardwareClass, release, total: 0, online: 0, trial: 0 };
            g.total++; if (d.online) g.online++; if (d.running && d.running.status === "trial") g.trial++;
            groups.set(key, g);
          }
          const rows = [...groups.values()].sort((a, b) => a.cls.localeCompare(b.cls) || a.release.localeCompare(b.release))
            .map(g => [g.cls, g.release, g.total, g.online, g.trial]);
          replace("devices", table(["class", "release", "devices", "online", "in trial"], rows),
            el("p", {}, devices.length + " devices, " + devices.filter(d => d.online).length + " online"));
        }

        function renderRollouts(rollouts) {
          if (!rollouts.length) { replace("rollouts", el("p", {}, "No rollouts yet.")); return; }
          const blocks = rollouts.slice(0, 5).map(r => {
            const waves = [];
            for (const w of r.waves) for (const [i, c] of w.classes.entries())
              waves.push([i ? "" : "wave " + (w.index + 1), i ? "" : Math.round(w.fraction * 1000) / 10 + "%", c.hardwareClass,
                bar(c.updated, c.failed, c.targeted), c.updated + "/" + c.targeted, c.failed,
                c.gatePassed === null || c.gatePassed === undefined ? "-" :
                  el("span", { class: c.gatePassed ? "pass" : "fail" }, c.gatePassed ? "passed" : "failed"), i ? "" : w.status]);
            const checks = [];
            for (const w of r.waves) for (const c of w.classes) for (const k of c.checks)
              checks.push(["wave " + (w.index + 1), c.hardwareClass, k.metric, fmt(k.measured, 3), fmt(k.baseline, 3), fmt(k.threshold, 3),
                el("span", { class: k.passed ? "pass" : "fail" }, k.passed ? "pass" : "FAIL")]);
            const classes = r.classes.map(c => [c.hardwareClass, c.status, latency(c.release && c.release.latencyP95Us),
              latency(c.baseline && c.baseline.latencyP95Us), fmt(c.release && c.release.accuracy, 3), fmt(c.baseline && c.baseline.accuracy, 3), c.reason || ""]);
            return el("div", { class: "rollout", "data-rollout": r.id },
              el("h3", {}, r.id + " — " + r.modelName + " " + r.version + " — " + r.status +
                " (wave " + Math.min(r.currentWave + 1, r.waves.length) + " of " + r.waves.length + ")"),
              el("p", {}, "target '" + (r.target || "all devices") + "', started by " + r.createdBy + " at " + time(r.createdAtMs) +
                (r.statusReason ? " — " + r.statusReason : "")),
              table(["wave", "share", "class", "progress", "updated", "failed", "gate", "status"], waves),
              classes.length ? table(["class", "status", "p95", "baseline p95", "accuracy", "baseline acc.", "reason"], classes) : "",
              checks.length ? table(["wave", "class", "check", "measured", "baseline", "threshold", "result"], checks) : "");
          });
          replace("rollouts", ...blocks);
        }

        function plot(title, metric, cls, series, pick) {
          const W = 420, H = 180, L = 50, R = 10, T = 10, B = 24;
          const pts = series.map(s => s.buckets.map(b => [b.startMs, pick(b.metrics)]).filter(p => p[1] !== null && p[1] !== undefined));
          const all = pts.flat();
          const svg = el("svg", { class: "plot", width: W, height: H, viewBox: "0 0 " + W + " " + H, "data-class": cls, "data-metric": metric });
          if (!all.length) { svg.append(el("text", { x: L, y: H / 2 }, "no data")); return el("figure", {}, svg, el("figcaption", {}, title)); }
          let x0 = Math.min(...all.map(p => p[0])), x1 = Math.max(...all.map(p => p[0]));
          let y0 = Math.min(...all.map(p => p[1])), y1 = Math.max(...all.map(p => p[1]));
          if (x1 === x0) { x0 -= 1; x1 += 1; }
          if (y1 === y0) { y0 -= Math.abs(y0) * 0.05 + 1e-6; y1 += Math.abs(y1) * 0.05 + 1e-6; }
          const X = x => L + (x - x0) / (x1 - x0) * (W - L - R), Y = y => H - B - (y - y0) / (y1 - y0) * (H - T - B);
          svg.append(el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#99a" }), el("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#99a" }),
            el("text", { x: 2, y: T + 10, "font-size": 10 }, metric === "p95" ? latency(y1) : fmt(y1, 3)),
            el("text", { x: 2, y: H - B, "font-size": 10 }, metric === "p95" ? latency(y0) : fmt(y0, 3)),
            el("text", { x: L, y: H - 6, "font-size": 10 }, time(x0)), el("text", { x: W - R - 110, y: H - 6, "font-size": 10 }, time(x1)));
          series.forEach((s, i) => {
            if (!pts[i].length) return;
            svg.append(el("polyline", { fill: "none", stroke: colors[i % colors.length], "stroke-width": 2,
              "data-release": s.modelName + " " + s.version, points: pts[i].map(p => X(p[0]).toFixed(1) + "," + Y(p[1]).toFixed(1)).join(" ") }));
          });
          return el("figure", {}, svg, el("figcaption", {}, title));
        }

        function renderTelemetry(report) {
          const byClass = new Map();
          for (const s of report.series) { if (!byClass.has(s.hardwareClass)) byClass.set(s.hardwareClass, []); byClass.get(s.hardwareClass).push(s); }
          if (!byClass.size) { replace("telemetry", el("p", {}, "No telemetry yet.")); return; }
          const blocks = [...byClass.keys()].sort().map(cls => {
            const series = byClass.get(cls).sort((a, b) => (a.modelName + a.version).localeCompare(b.modelName + b.version));
            const legend = el("div", { class: "legend" }, ...series.map((s, i) =>
              el("span", {}, el("i", { style: "background:" + colors[i % colors.length] }), s.modelName + " " + s.version)));
            return el("div", { class: "telemetry-class", "data-class": cls }, el("h3", {}, cls), legend,
              el("div", { class: "plots" }, plot("p95 latency — " + cls, "p95", cls, series, m => m.latencyP95Us),
                plot("accuracy — " + cls, "accuracy", cls, series, m => m.accuracy)));
          });
          replace("telemetry", ...blocks);
        }

        async function refresh() {
          const status = document.getElementById("status"), error = document.getElementById("error");
          if (!token) { error.textContent = "No token: open this page as /#token=<your operator token>."; status.textContent = ""; return; }
          try {
            const [devices, rollouts, telemetry] = await Promise.all([api("/v1/devices"), api("/v1/rollouts?limit=10"), api("/v1/telemetry")]);
            renderDevices(devices.items); renderRollouts(rollouts.items); renderTelemetry(telemetry);
            error.textContent = ""; status.textContent = "updated " + time(Date.now());
          } catch (e) { error.textContent = e.message; }
        }
        refresh();
        setInterval(refresh, 5000);
        </script>
        </body>
        </html>
        """#
}
