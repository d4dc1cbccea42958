// Swift-only: the style and the script of the reading view, our own, written into each page
// (a page loads nothing else). The script reads only the page's own data and writes text with
// `textContent`, never markup.

enum Assets {
    /// What both pages share: type, colours (dark text on light ground, contrast above 7:1 for
    /// text), focus rings, and the helpers for a reader who navigates by keyboard.
    static let style = #"""
        :root { --ink: #1b1b1b; --muted: #4a4a4a; --ground: #ffffff; --panel: #f6f6f4; --rule: #c9c9c4;
          --link: #0b4fa8; --mark: #ffe27a; --mark-edge: #8a5a00; --body: #fff6cf; --focus: #0b4fa8;
          --mono: ui-monospace, "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; }
        * { box-sizing: border-box; }
        html { font-size: 15px; }
        body { margin: 0; font-family: system-ui, "DejaVu Sans", "Liberation Sans", Arial, sans-serif;
          color: var(--ink); background: var(--ground); line-height: 1.45; overflow-wrap: break-word; }
        a { color: var(--link); }
        a:focus-visible, button:focus-visible, input:focus-visible, [tabindex]:focus-visible, summary:focus-visible, canvas:focus-visible {
          outline: 3px solid var(--focus); outline-offset: 2px; }
        .skip { position: absolute; left: -9999px; top: 0; background: var(--ground); padding: .4rem .8rem; z-index: 10; }
        .skip:focus { left: .5rem; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        header.top { display: flex; flex-wrap: wrap; align-items: baseline; gap: .3rem 1.2rem; padding: .5rem 1rem;
          border-bottom: 1px solid var(--rule); }
        header.top h1 { font-size: 1.25rem; margin: 0; }
        header.top h1 .sub { font-weight: normal; color: var(--muted); font-size: .95rem; margin-left: .4rem; }
        .panel { background: var(--panel); border: 1px solid var(--rule); border-radius: 4px; padding: .5rem .7rem; min-width: 0; }
        .panel h2 { font-size: 1rem; margin: .1rem 0 .4rem; }
        .panel h3 { font-size: .9rem; margin: .6rem 0 .2rem; }
        code, pre, kbd, .ln { font-family: var(--mono); font-size: .86rem; }
        kbd { border: 1px solid var(--rule); border-bottom-width: 2px; border-radius: 3px; padding: 0 .3rem; background: var(--ground); }
        .ln { position: relative; display: flex; white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.35; }
        .ln .no { flex: 0 0 4.4em; text-align: right; padding-right: .8em; color: var(--muted); user-select: none; }
        .ln code { flex: 1 1 auto; font-size: inherit; min-width: 0; }
        .ln.hl { background: var(--mark); box-shadow: inset 4px 0 0 var(--mark-edge); }
        .ln.hl code { text-decoration: underline 2px var(--mark-edge); text-underline-offset: 3px; }
        .ln:target .no::before { content: "▶"; position: absolute; left: .35em; color: var(--ink); }
        .pin { position: absolute; left: .35em; color: var(--ink); pointer-events: none; font-family: var(--mono); line-height: 1.35; }
        .body-mark { position: absolute; left: 0; right: 0; background: var(--body); box-shadow: inset 4px 0 0 #d9b85a; pointer-events: none; }
        .ln.probe { box-shadow: inset 4px 0 0 #d9b85a, inset 0 0 0 1px var(--mark-edge); }
        .ln:target { background: var(--mark); box-shadow: inset 4px 0 0 var(--mark-edge); }
        .missing, .warning { background: #fff0f0; border-left: 4px solid #a40000; padding: .4rem .6rem; }
        table { border-collapse: collapse; }
        th, td { text-align: left; padding: .15rem .5rem; border-bottom: 1px solid var(--rule); vertical-align: top; overflow-wrap: anywhere; }
        .table-scroll { overflow-x: auto; max-width: 100%; }
        """#

    /// The stepper's layout: three columns on a wide screen (the event, the Python, the Swift),
    /// two on a narrow one, one on a phone.
    static let stepperStyle = #"""
        #controls { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem 1rem; padding: .5rem 1rem; border-bottom: 1px solid var(--rule); }
        #controls .buttons, #jump { display: flex; flex-wrap: wrap; gap: .35rem; align-items: center; }
        #controls button { font: inherit; padding: .25rem .6rem; border: 1px solid #6d6d6d; border-radius: 4px; background: var(--ground); color: var(--ink); cursor: pointer; }
        #controls button:disabled { color: var(--muted); cursor: default; }
        #position { font-family: var(--mono); font-size: .9rem; margin-left: .3rem; }
        .slider { display: flex; align-items: center; gap: .4rem; flex: 1 1 16rem; }
        .slider input { flex: 1 1 auto; min-width: 8rem; }
        #request { width: 5.5rem; font: inherit; }
        #jump-note { color: #8a0000; }
        .keys { margin: 0; color: var(--muted); font-size: .88rem; flex-basis: 100%; }
        main.stepper { display: grid; gap: .6rem; padding: .6rem 1rem; grid-template-columns: minmax(0, 4fr) minmax(0, 5fr) minmax(0, 5fr);
          grid-template-areas: "now py sw" "stack py sw"; grid-template-rows: auto 1fr; }
        .now { grid-area: now; } .stack { grid-area: stack; }
        .py-panel { grid-area: py; } .sw-panel { grid-area: sw; }
        .source { display: flex; flex-direction: column; align-self: start; }
        .pane .lines { contain: layout style; }
        .pane { position: relative; overflow: auto; contain: strict; background: var(--ground); border: 1px solid var(--rule); flex: 0 0 auto;
          height: calc(100vh - 15rem); min-height: 16rem; max-height: 50rem; }
        .where, .file { font-weight: normal; font-family: var(--mono); font-size: .85rem; }
        #now-title { font-family: var(--mono); font-size: .98rem; overflow-wrap: anywhere; }
        #now-facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .1rem .6rem; margin: 0; font-size: .9rem; }
        #now-facts dt { color: var(--muted); } #now-facts dd { margin: 0; overflow-wrap: anywhere; }
        .detail { white-space: pre-wrap; overflow-wrap: anywhere; background: var(--ground); border: 1px solid var(--rule); padding: .25rem .4rem; margin: 0; min-height: 1.6em; }
        .swatch { display: inline-block; width: .9em; height: .9em; border: 1px solid var(--ink); vertical-align: -.1em; margin-right: .3em; }
        #mro-table { font-size: .86rem; width: 100%; }
        #mro-table tr.ran { font-weight: 700; background: var(--mark); }
        #mro-note { margin: .2rem 0; font-size: .9rem; }
        #stack { margin: 0; padding-left: 1.6rem; font-family: var(--mono); font-size: .85rem; }
        #stack li { overflow-wrap: anywhere; }
        #stack li.here { font-weight: 700; }
        .hint { margin: 0 0 .3rem; color: var(--muted); font-size: .85rem; }
        .lanes { margin: 0 1rem 1rem; }
        .legend { font-size: .88rem; margin: 0 0 .4rem; }
        .lanes-scroll { max-height: 60vh; overflow: auto; background: var(--ground); border: 1px solid var(--rule); }
        #lanes { display: block; cursor: pointer; }
        .lane-table { font-size: .86rem; margin-top: .3rem; }
        @media (max-width: 1100px) {
          main.stepper { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); grid-template-areas: "now py" "stack sw"; grid-template-rows: auto auto; }
          .pane { height: 22rem; }
        }
        @media (max-width: 760px) {
          html { font-size: 14px; }
          main.stepper { grid-template-columns: minmax(0, 1fr); grid-template-areas: "now" "py" "sw" "stack"; padding: .5rem; }
          .pane { height: 50vh; min-height: 12rem; }
          #controls { padding: .5rem; }
          .lanes { margin: 0 .5rem .5rem; }
        }
        """#

    /// The stepper's script: reads the page's data, shows the event of `#step=N`, and moves
    /// through the run with the buttons, the slider, the keys and the links.
    static let stepperScript = #"""
        (function () {
          "use strict";
          var D = JSON.parse(document.getElementById("trace-data").textContent);
          var S = D.strings;
          var count = D.seq.length;
          var KINDS = ["call", "return", "raise"];
          var MARKS = ["→", "←", "✗"];
          var bySeq = new Map();
          var laneEvents = D.lanes.map(function () { return []; });
          for (var i = 0; i < count; i++) { bySeq.set(D.seq[i], i); laneEvents[D.lane[i]].push(i); }
          var requestStarts = D.requests.map(function (r) { return r[1]; }).sort(function (a, b) { return a - b; });
          var requestFirst = new Map(D.requests.map(function (r) { return [r[0], r[1]]; }));
          var current = -1;
          var marked = [];
          var layout = null;
          function $(id) { return document.getElementById(id); }
          function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
          function add(parent, tag, text, className) {
            var node = document.createElement(tag);
            if (text !== undefined && text !== null) node.textContent = text;
            if (className) node.className = className;
            parent.appendChild(node);
            return node;
          }
          function stepLink(parent, index, text) {
            var link = add(parent, "a", text);
            link.href = "#step=" + D.seq[index];
            return link;
          }
          function anchorName(prefix, name) { return prefix + "-" + name.replace(/[^A-Za-z0-9_.\-]/g, "-"); }
          function hue(request) { return (request * 137.508) % 360; }
          function requestColor(request) { return request > 0 ? "hsl(" + hue(request).toFixed(1) + ", 70%, 40%)" : "#8c8c8c"; }
          function result(detail) { return detail.indexOf("-> ") === 0 ? detail.slice(3) : detail; }
          function laneOrigin(k) {
            var lane = D.lanes[k];
            if (lane.kind === "main") return "the first thread of the run";
            var what = lane.kind === "fork" ? "a child process forked from " : "a thread started from ";
            return what + D.lanes[lane.from].label + " at step " + D.seq[lane.at];
          }

          function fact(list, term, build) {
            add(list, "dt", term);
            var dd = add(list, "dd");
            if (typeof build === "string") dd.textContent = build; else build(dd);
          }

          function showEvent(index) {
            var kind = D.kind[index], fn = S[D.fn[index]], partner = D.partner[index];
            var now = $("current");
            now.setAttribute("data-step", String(D.seq[index]));
            now.setAttribute("data-function", fn);
            now.setAttribute("data-python-line", D.py[index] >= 0 ? String(D.py[index]) : "");
            now.setAttribute("data-swift-line", S[D.swText[index]]);
            $("now-title").textContent = "Step " + D.seq[index] + ": " + MARKS[kind] + " " + KINDS[kind] + " " + fn;
            var facts = $("now-facts");
            clear(facts);
            var lane = D.lane[index];
            fact(facts, "Lane", D.lanes[lane].label + " (" + laneOrigin(lane) + ")");
            fact(facts, "Request", function (dd) {
              var request = D.req[index];
              var swatch = add(dd, "span", null, "swatch");
              swatch.style.background = requestColor(request);
              swatch.setAttribute("aria-hidden", "true");
              add(dd, "span", request > 0 ? "request " + request : "none (outside any request)");
            });
            fact(facts, "self", "a " + S[D.self[index]]);
            fact(facts, "Python", function (dd) {
              if (D.py[index] < 0) { dd.textContent = "not a function of Lib/socketserver.py"; return; }
              var link = add(dd, "a", "Lib/socketserver.py:" + D.py[index]);
              link.href = "source.html#" + anchorName("fn", fn);
            });
            fact(facts, "Swift", function (dd) {
              var text = S[D.swText[index]];
              if (!text) { dd.textContent = "none (a trace without Swift locations)"; return; }
              var where = D.sw[index] >= 0 ? D.locations[D.sw[index]] : null;
              add(dd, "span", text);
              if (where && where[4]) add(dd, "span", " (where the port calls it: this method is the program's own)");
              else if (where && where[3] !== where[1]) add(dd, "span", " (the declaration; its probe is line " + where[3] + ")");
            });
            fact(facts, "Depth", String(D.depth[index]) + " (t = " + D.t[index] + ")");
            var args, res;
            if (kind === 0) {
              args = S[D.detail[index]];
              if (partner < 0) res = "(the trace ends before it returns)";
              else res = D.kind[partner] === 2 ? "raised " + S[D.detail[partner]] : result(S[D.detail[partner]]);
            } else {
              args = partner >= 0 ? S[D.detail[partner]] : "(its call is not in the trace)";
              res = kind === 2 ? "raised " + S[D.detail[index]] : result(S[D.detail[index]]);
            }
            $("now-args").textContent = args === "" ? "(none)" : args;
            $("now-result").textContent = res;
            var step = D.mroSteps[D.mro[index]];
            $("mro-note").textContent = step.note;
            var body = $("mro-table").tBodies[0];
            clear(body);
            step.rows.forEach(function (row) {
              var tr = add(body, "tr", null, row[2] ? "ran" : "");
              add(tr, "td", row[0]);
              add(tr, "td", row[1] ? "✓ defines it" : "—");
              add(tr, "td", row[2] ? "◀ its version ran" : "");
            });
            $("announce").textContent = "Step " + D.seq[index] + ": " + KINDS[kind] + " " + fn + ", " + D.lanes[lane].label;
          }

          function showStack(index) {
            var list = $("stack");
            clear(list);
            var kind = D.kind[index];
            var top = kind === 0 ? index : (D.partner[index] >= 0 ? D.partner[index] : D.caller[index]);
            var lane = D.lane[index];
            for (var frame = top, depth = 0; frame >= 0 && depth < 200; frame = D.caller[frame], depth++) {
              var item = add(list, "li", null, frame === top ? "here" : "");
              stepLink(item, frame, S[D.fn[frame]]);
              var note = " · " + D.lanes[D.lane[frame]].label;
              if (D.lane[frame] !== lane) note += D.lanes[lane].kind === "fork" ? " (the parent's, before the fork)" : " (another lane)";
              if (frame === top) note += kind === 0 ? " ◀ called now" : " ◀ " + KINDS[kind] + "s now";
              add(item, "span", note);
            }
            if (top < 0) add(list, "li", "(no call open)");
          }

          function mark(element, className) {
            if (!element) return;
            element.classList.add(className);
            marked.push([element, className]);
          }
          function scrollPane(pane, element) {
            if (!pane || !element) return;
            var top = element.offsetTop, bottom = top + element.offsetHeight;
            if (top < pane.scrollTop + 8 || bottom > pane.scrollTop + pane.clientHeight - 8) {
              pane.scrollTop = Math.max(0, top - pane.clientHeight / 4);
            }
          }
          function showSource(index) {
            marked.forEach(function (m) { m[0].classList.remove(m[1]); m[0].removeAttribute("aria-current"); });
            marked = [];
            var fn = S[D.fn[index]];
            var range = D.pyRanges[fn];
            var pyWhere = $("py-where");
            if (D.py[index] < 0) pyWhere.textContent = "(not in this file)";
            else pyWhere.textContent = ":" + D.py[index] + (range ? "" : " (not a def of this file)");
            bodyMark($("py"), null);
            pin($("py"), "head", null);
            if (range) {
              var def = $("py-L" + range[0]);
              mark(def, "hl");
              if (def) def.setAttribute("aria-current", "true");
              bodyMark($("py"), def, $("py-L" + range[1]));
              pin($("py"), "head", def, "▶");
              scrollPane($("py"), def);
            }
            var where = D.sw[index] >= 0 ? D.locations[D.sw[index]] : null;
            $("sw-file").textContent = where ? D.swiftFiles[where[0]] : (D.swiftFiles[0] || "");
            $("sw-where").textContent = where ? ":" + where[1] : "(no Swift location)";
            if (!where) return;
            D.swiftFiles.forEach(function (_, k) {
              var pane = $("sw" + k);
              if (pane && pane.hidden !== (k !== where[0])) pane.hidden = k !== where[0];
            });
            var prefix = "sw" + where[0] + "-L";
            var head = $(prefix + where[1]);
            mark(head, "hl");
            if (head) head.setAttribute("aria-current", "true");
            bodyMark($("sw" + where[0]), head, $(prefix + where[2]));
            pin($("sw" + where[0]), "head", head, "▶");
            if (where[3] !== where[1]) mark($(prefix + where[3]), "probe");
            pin($("sw" + where[0]), "probe", where[3] !== where[1] ? $(prefix + where[3]) : null, "•");
            scrollPane($("sw" + where[0]), head);
          }
          // A glyph beside a line (▶ the declaration, • the probe), in an element of its own
          // that moves: a marker made by the line's style would cost a layout of the pane.
          function pin(pane, kind, line, glyph) {
            if (!pane) return;
            var marker = pane.querySelector(".pin." + kind);
            if (!line) { if (marker) marker.hidden = true; return; }
            if (!marker) {
              marker = document.createElement("span");
              marker.className = "pin " + kind;
              marker.setAttribute("aria-hidden", "true");
              pane.appendChild(marker);
            }
            marker.textContent = glyph;
            marker.hidden = false;
            marker.style.top = line.offsetTop + "px";
          }
          // The lines of the function that runs, shaded by one element behind them (marking each
          // line would make the browser restyle them all at every step).
          function bodyMark(pane, from, to) {
            if (!pane) return;
            var shade = pane.querySelector(".body-mark");
            if (!from || !to) { if (shade) shade.hidden = true; return; }
            if (!shade) {
              shade = document.createElement("div");
              shade.className = "body-mark";
              shade.setAttribute("aria-hidden", "true");
              pane.insertBefore(shade, pane.firstChild);
            }
            shade.hidden = false;
            shade.style.top = from.offsetTop + "px";
            shade.style.height = Math.max(0, to.offsetTop + to.offsetHeight - from.offsetTop) + "px";
          }
          function scrollToMarks() {
            marked.forEach(function (m) {
              if (m[1] === "hl") scrollPane(m[0].closest(".pane"), m[0]);
            });
          }

          var monoFont = getComputedStyle(document.body).getPropertyValue("--mono");
          function setupLanes() {
            var canvas = $("lanes");
            var lanes = D.lanes.length;
            var rowH = lanes <= 40 ? 22 : Math.max(4, Math.floor(880 / lanes));
            var labelW = rowH >= 14 ? 78 : 0;
            var width = Math.max(320, canvas.parentNode.clientWidth - 2);
            var top = 14;
            var height = top + lanes * rowH + 6;
            var ratio = window.devicePixelRatio || 1;
            canvas.style.width = width + "px";
            canvas.style.height = height + "px";
            canvas.width = Math.round(width * ratio);
            canvas.height = Math.round(height * ratio);
            layout = { rowH: rowH, labelW: labelW, width: width, height: height, top: top, ratio: ratio,
              plotW: width - labelW - 12, base: document.createElement("canvas") };
            var base = layout.base;
            base.width = canvas.width;
            base.height = canvas.height;
            var g = base.getContext("2d");
            g.setTransform(ratio, 0, 0, ratio, 0, 0);
            g.fillStyle = "#ffffff";
            g.fillRect(0, 0, width, height);
            g.font = "12px " + monoFont;
            g.textBaseline = "middle";
            for (var k = 0; k < lanes; k++) {
              var y = top + k * rowH;
              if (k % 2 === 1) { g.fillStyle = "#f1f1ee"; g.fillRect(0, y, width, rowH); }
              if (labelW) { g.fillStyle = "#1b1b1b"; g.fillText(D.lanes[k].label, 14, y + rowH / 2); }
              g.fillStyle = "#b5b5b0";
              g.fillRect(xOf(D.lanes[k].first), y + rowH / 2 - 0.5, Math.max(1, xOf(D.lanes[k].last) - xOf(D.lanes[k].first)), 1);
            }
            var tick = Math.max(1, Math.min(4, layout.plotW / count));
            for (var e = 0; e < count; e++) {
              var yy = top + D.lane[e] * rowH;
              g.fillStyle = requestColor(D.req[e]);
              g.fillRect(xOf(e), yy + 3, tick, rowH - 6);
            }
            if (rowH >= 14) {
              var lastLabel = {};
              g.font = "bold 10px " + monoFont;
              for (var r = 0; r < D.requests.length; r++) {
                var first = D.requests[r][1], x = xOf(first), laneOf = D.lane[first];
                if (lastLabel[laneOf] !== undefined && x - lastLabel[laneOf] < 30) continue;
                lastLabel[laneOf] = x;
                g.fillStyle = "#ffffff";
                g.fillRect(x + 2, top + laneOf * rowH + 4, 7 * String(D.requests[r][0]).length + 3, rowH - 8);
                g.fillStyle = requestColor(D.requests[r][0]);
                g.fillText(String(D.requests[r][0]), x + 3, top + laneOf * rowH + rowH / 2);
              }
            }
            g.strokeStyle = "#1b1b1b";
            g.fillStyle = "#1b1b1b";
            g.lineWidth = 1.5;
            D.lanes.forEach(function (lane, k) {
              if (lane.kind === "main") return;
              var x1 = xOf(lane.at), y1 = top + lane.from * rowH + rowH / 2;
              var x2 = xOf(lane.first), y2 = top + k * rowH + rowH / 2;
              g.setLineDash(lane.kind === "fork" ? [5, 3] : []);
              g.beginPath(); g.moveTo(x1, y1); g.lineTo(x2, y2); g.stroke();
              g.setLineDash([]);
              var angle = Math.atan2(y2 - y1, x2 - x1);
              g.beginPath();
              g.moveTo(x2, y2);
              g.lineTo(x2 - 7 * Math.cos(angle - 0.45), y2 - 7 * Math.sin(angle - 0.45));
              g.lineTo(x2 - 7 * Math.cos(angle + 0.45), y2 - 7 * Math.sin(angle + 0.45));
              g.closePath(); g.fill();
            });
          }
          function xOf(index) { return layout.labelW + 6 + (count <= 1 ? 0 : index * layout.plotW / (count - 1)); }
          function drawLanes(index) {
            if (!layout) return;
            var canvas = $("lanes"), g = canvas.getContext("2d");
            g.setTransform(1, 0, 0, 1, 0, 0);
            g.drawImage(layout.base, 0, 0);
            g.setTransform(layout.ratio, 0, 0, layout.ratio, 0, 0);
            var x = xOf(index), k = D.lane[index], y = layout.top + k * layout.rowH;
            g.fillStyle = "#000000";
            g.fillRect(x - 1, 0, 2, layout.height);
            g.beginPath(); g.moveTo(x - 6, y - 7); g.lineTo(x + 6, y - 7); g.lineTo(x, y + 1); g.closePath(); g.fill();
            g.strokeStyle = "#000000"; g.lineWidth = 2;
            g.strokeRect(layout.labelW + 1, y + 1, layout.plotW + 10, layout.rowH - 2);
            if (layout.labelW) {
              g.font = "bold 12px " + monoFont;
              g.textBaseline = "middle";
              g.fillText("▶", 2, y + layout.rowH / 2);
            }
            var scroller = canvas.parentNode;
            if (y < scroller.scrollTop || y + layout.rowH > scroller.scrollTop + scroller.clientHeight) {
              scroller.scrollTop = Math.max(0, y - scroller.clientHeight / 3);
            }
          }
          function nearestInLane(k, position) {
            var list = laneEvents[k], low = 0, high = list.length - 1;
            while (low < high) { var mid = (low + high) >> 1; if (list[mid] < position) low = mid + 1; else high = mid; }
            if (low > 0 && Math.abs(list[low - 1] - position) < Math.abs(list[low] - position)) low -= 1;
            return list[low];
          }

          function go(index, keepAddress) {
            if (count === 0) return;
            index = Math.max(0, Math.min(count - 1, index));
            if (index === current) return;
            current = index;
            showEvent(index);
            showStack(index);
            showSource(index);
            drawLanes(index);
            $("slider").value = String(index);
            $("position").textContent = "step " + D.seq[index] + " · event " + (index + 1) + " of " + count;
            $("first").disabled = $("back").disabled = index === 0;
            $("last").disabled = $("forward").disabled = index === count - 1;
            if (!keepAddress) writeAddress();
          }
          // The address follows the step, at most every 120 ms (a browser ignores a page that
          // rewrites its address too often, as holding an arrow key would).
          var addressWritten = 0, addressTimer = 0;
          function writeAddress() {
            var wait = addressWritten + 120 - performance.now();
            if (wait > 0) {
              if (!addressTimer) addressTimer = setTimeout(function () { addressTimer = 0; writeAddress(); }, wait);
              return;
            }
            addressWritten = performance.now();
            try { history.replaceState(null, "", "#step=" + D.seq[current]); } catch (error) { /* a page opened from a file may refuse */ }
          }
          function nextRequest(direction) {
            var found = -1;
            if (direction > 0) { for (var a = 0; a < requestStarts.length; a++) if (requestStarts[a] > current) { found = requestStarts[a]; break; } }
            else { for (var b = requestStarts.length - 1; b >= 0; b--) if (requestStarts[b] < current) { found = requestStarts[b]; break; } }
            if (found >= 0) go(found);
          }
          function fromAddress() {
            var match = /^#step=(-?[0-9]+)$/.exec(location.hash);
            if (!match) return null;
            var seq = parseInt(match[1], 10);
            if (bySeq.has(seq)) { $("jump-note").textContent = ""; return bySeq.get(seq); }
            $("jump-note").textContent = "This run has no step " + seq + ": showing its first.";
            return 0;
          }

          $("first").addEventListener("click", function () { go(0); });
          $("back").addEventListener("click", function () { go(current - 1); });
          $("forward").addEventListener("click", function () { go(current + 1); });
          $("last").addEventListener("click", function () { go(count - 1); });
          $("prev-request").addEventListener("click", function () { nextRequest(-1); });
          $("next-request").addEventListener("click", function () { nextRequest(1); });
          $("slider").addEventListener("input", function (event) { go(parseInt(event.target.value, 10)); });
          $("jump").addEventListener("submit", function (event) {
            event.preventDefault();
            var number = parseInt($("request").value, 10);
            if (requestFirst.has(number)) {
              $("jump-note").textContent = "";
              go(requestFirst.get(number));
              $("current").focus({ preventScroll: true });  // so that the arrow keys step on from there
            }
            else $("jump-note").textContent = "This run has no request " + $("request").value + ".";
          });
          $("lanes").addEventListener("click", function (event) {
            if (!layout) return;
            var box = event.target.getBoundingClientRect();
            var k = Math.floor((event.clientY - box.top - layout.top) / layout.rowH);
            if (k < 0 || k >= D.lanes.length) return;
            var position = (event.clientX - box.left - layout.labelW - 6) / layout.plotW * (count - 1);
            go(nearestInLane(k, Math.round(position)));
          });
          document.addEventListener("keydown", function (event) {
            if (event.altKey || event.ctrlKey || event.metaKey) return;
            var target = event.target, tag = target && target.tagName;
            if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") return;
            var key = event.key;
            if (key === "ArrowRight") go(current + 1);
            else if (key === "ArrowLeft") go(current - 1);
            else if (key === "Home") go(0);
            else if (key === "End") go(count - 1);
            else if (key === "]") nextRequest(1);
            else if (key === "[") nextRequest(-1);
            else return;
            event.preventDefault();
          });
          window.addEventListener("hashchange", function () { var index = fromAddress(); if (index !== null) go(index, true); });
          var resizing = false;
          window.addEventListener("resize", function () {
            if (resizing) return;
            resizing = true;
            requestAnimationFrame(function () { resizing = false; setupLanes(); drawLanes(current); scrollToMarks(); });
          });
          setupLanes();
          var start = fromAddress();
          go(start === null ? 0 : start, start !== null);
          window.stepperReady = performance.now();
        })();
        """#
}
