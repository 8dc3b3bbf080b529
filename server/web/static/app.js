// Vermont's web interface: the live parts. Every page reads without this
// script; it adds the live log tail, live run states, search, timestamps,
// and forms that post without leaving the page. It builds the DOM with
// textContent only: nothing the server sends is parsed as HTML.
"use strict";
(function () {
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  // Forms marked data-async post with fetch; the answer's location is
  // followed only when it is another page (a dispatch's new run).
  function asyncForms() {
    document.querySelectorAll("form[data-async]").forEach(function (f) {
      f.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var msg = f.querySelector(".flash");
        fetch(f.action, {method: "POST", body: new URLSearchParams(new FormData(f)), headers: {"Accept": "application/json"}, credentials: "same-origin"})
          .then(function (r) {
            if (!r.ok) {
              return r.text().then(function (t) {
                var d = new DOMParser().parseFromString(t, "text/html");
                var a = d.querySelector("[role=alert]");
                throw new Error(a ? a.textContent : r.statusText);
              });
            }
            return r.json();
          })
          .then(function (j) {
            var d = f.closest("details");
            if (d) d.open = false;
            if (j.location && j.location !== location.pathname) location.assign(j.location);
            else if (window.vermontRunPoll) window.vermontRunPoll();
          })
          .catch(function (e) {
            if (msg) { msg.textContent = e.message; msg.hidden = false; } else alert(e.message);
          });
      });
    });
  }

  // The run page polls its state until the run completes.
  function runPage() {
    var root = document.getElementById("run");
    if (!root) return;
    var url = root.dataset.stateUrl, timer = null;
    function apply(s) {
      var st = document.getElementById("run-state");
      st.className = "state " + s.state;
      st.textContent = s.label;
      root.dataset.state = s.state;
      var missing = false;
      s.jobs.forEach(function (j) {
        var a = document.querySelector('a.job[data-job="' + j.id + '"]');
        if (!a) { missing = true; return; }
        a.className = "job state-box " + j.state;
        var b = a.querySelector(".state");
        b.className = "state " + j.state;
        b.textContent = j.label;
        a.querySelector(".dur").textContent = j.duration;
      });
      if (missing || (s.state !== "queued" && s.state !== "in_progress")) refreshGraph(s);
      return s.state === "queued" || s.state === "in_progress";
    }
    // New jobs (or the run's end, which changes the actions) bring the
    // server's rendering of the graph and actions, parsed inertly.
    var refreshed = "";
    function refreshGraph(s) {
      var key = s.state + ":" + s.jobs.length;
      if (refreshed === key) return;
      refreshed = key;
      fetch(location.pathname, {credentials: "same-origin"}).then(function (r) { return r.text(); }).then(function (t) {
        var d = new DOMParser().parseFromString(t, "text/html");
        ["graph", "rerun", "rerun-failed", "cancel"].forEach(function (id) {
          var fresh = d.getElementById(id), cur = document.getElementById(id);
          if (fresh && cur) cur.replaceWith(document.importNode(fresh, true));
          else if (fresh && !cur) { var acts = document.querySelector(".actions"); if (acts) acts.appendChild(document.importNode(fresh, true)); }
          else if (!fresh && cur) cur.remove();
        });
      });
    }
    function poll() {
      clearTimeout(timer);
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (s) { if (apply(s)) timer = setTimeout(poll, 1000); })
        .catch(function () { timer = setTimeout(poll, 3000); });
    }
    window.vermontRunPoll = poll;
    if (root.dataset.state === "queued" || root.dataset.state === "in_progress") poll();
  }

  function lineEl(l) {
    var id = "step-" + l.step + "-" + l.rel;
    var d = el("div", "ln " + (l.level || ""));
    d.id = id;
    d.dataset.n = l.n;
    var a = el("a", "no", String(l.rel));
    a.href = "#" + id;
    a.setAttribute("aria-label", "line " + l.rel);
    d.appendChild(a);
    var t = el("time", null, l.time);
    t.setAttribute("datetime", l.time);
    d.appendChild(t);
    var tx = el("span", "tx");
    l.segs.forEach(function (s) {
      if (s.c) tx.appendChild(el("span", s.c, s.t)); else tx.appendChild(document.createTextNode(s.t));
    });
    d.appendChild(tx);
    return d;
  }

  function jobPage() {
    var root = document.getElementById("job");
    if (!root) return;
    var log = document.getElementById("log");
    var base = root.dataset.base;
    var last = parseInt(root.dataset.last || "0", 10);
    var groups = {}; // the open ::group:: of each step

    function stepBox(n, name) {
      var s = document.getElementById("step-" + n);
      if (!s) {
        var none = document.getElementById("no-log");
        if (none) none.remove();
        s = el("details", "step");
        s.id = "step-" + n;
        s.dataset.step = n;
        s.open = true;
        var sum = el("summary");
        sum.appendChild(el("span", "state in_progress", "In progress"));
        sum.appendChild(el("span", "name", name || (n === 0 ? "Set up job" : "Step " + n)));
        sum.appendChild(el("span", "dur", ""));
        s.appendChild(sum);
        s.appendChild(el("div", "lines"));
        log.appendChild(s);
      }
      return s;
    }
    function append(l) {
      if (l.n <= last) return;
      last = l.n;
      var box = stepBox(l.step).querySelector(".lines");
      if (l.level === "endgroup") { groups[l.step] = null; return; }
      if (l.level === "group") {
        var g = el("details", "grp");
        var s = el("summary");
        s.appendChild(lineEl(l));
        g.appendChild(s);
        box.appendChild(g);
        groups[l.step] = g;
        return;
      }
      var line = lineEl(l);
      (groups[l.step] || box).appendChild(line);
      if (search.value) mark(line, search.value.toLowerCase());
    }
    function steps(list) {
      list.forEach(function (s) {
        var b = stepBox(s.number, s.name);
        if (s.first) b.dataset.first = s.first;
        var st = b.querySelector("summary .state");
        st.className = "state " + s.state;
        st.textContent = s.label;
        b.querySelector("summary .name").textContent = s.name;
        b.querySelector("summary .dur").textContent = s.duration;
      });
    }

    // Search: lines that do not hold the text are hidden, and groups
    // holding a match open.
    var search = document.getElementById("log-search");
    function mark(line, q) {
      var hit = !q || line.textContent.toLowerCase().indexOf(q) >= 0;
      line.classList.toggle("miss", !hit);
      if (hit && q) { var g = line.closest("details"); while (g) { g.open = true; g = g.parentElement.closest("details"); } }
    }
    search.addEventListener("input", function () {
      var q = search.value.toLowerCase();
      log.querySelectorAll(".ln").forEach(function (l) { mark(l, q); });
    });
    document.getElementById("log-times").addEventListener("change", function (e) {
      log.classList.toggle("times", e.target.checked);
    });

    // A line link opens the step and group holding the line; a line past
    // this page is on the page starting there.
    function target() {
      var m = /^#step-(\d+)-(\d+)$/.exec(location.hash);
      if (!m) return;
      var line = document.getElementById(location.hash.slice(1));
      if (!line) {
        var box = document.getElementById("step-" + m[1]);
        if (box && box.dataset.first && box.dataset.first !== "0") {
          var n = parseInt(box.dataset.first, 10) + parseInt(m[2], 10) - 1;
          var from = Math.max(1, n - 100);
          if (String(from) !== new URLSearchParams(location.search).get("from")) {
            location.replace(location.pathname + "?from=" + from + location.hash);
          }
        }
        return;
      }
      var d = line.closest("details");
      while (d) { d.open = true; d = d.parentElement.closest("details"); }
      line.scrollIntoView({block: "center"});
    }
    window.addEventListener("hashchange", target);
    target();

    // Later lines of a long log arrive as the reader nears the end of
    // an open step.
    var more = document.getElementById("more"), loading = false;
    function near() {
      var last = log.querySelector(".step:last-of-type");
      return more && last && last.open && more.getBoundingClientRect().top < window.innerHeight + 600;
    }
    function loadMore() {
      if (loading || !near()) return;
      loading = true;
      fetch(base + "/lines?after=" + last, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (j) {
        j.lines.forEach(append);
        loading = false;
        if (j.lines.length === 0) { more.parentElement.remove(); more = null; return; }
        more.href = "?from=" + (last + 1);
        requestAnimationFrame(loadMore);
      });
    }
    if (more) {
      window.addEventListener("scroll", loadMore, {passive: true});
      log.addEventListener("toggle", loadMore, true);
    }

    // The live tail: an EventSource resumes after the last line it got
    // (Last-Event-ID) when it reconnects.
    if (root.dataset.live && !root.dataset.more && window.EventSource) {
      var status = document.getElementById("live-status");
      var es = new EventSource(base + "/live?after=" + last);
      es.onmessage = function (e) { append(JSON.parse(e.data)); };
      es.addEventListener("steps", function (e) { steps(JSON.parse(e.data)); });
      es.addEventListener("done", function (e) {
        es.close();
        var s = JSON.parse(e.data).state;
        var st = document.getElementById("job-state");
        st.className = "state " + s;
        st.textContent = s.charAt(0).toUpperCase() + s.slice(1);
        status.textContent = "Completed";
      });
      es.onerror = function () { status.textContent = "Reconnecting…"; };
      es.onopen = function () { status.textContent = "Live"; };
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    asyncForms();
    runPage();
    jobPage();
  });
})();
