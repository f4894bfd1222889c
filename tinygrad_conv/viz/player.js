// The step-through player: one frame visible at a time, scaled to the stage and scrolled so that
// the frame's current step (its elements of class "current") is in view. Keys act only while the
// player has the focus, so a notebook or any other page around it keeps its own keys.
(function () {
  "use strict";
  var PT = 4 / 3;                      // CSS px per SVG unit at natural size (Graphviz draws in pt)
  var READABLE = 0.9;                  // following, never scale below this: 11 pt text stays ~10 px
  var PRESENTER = [1.6, 3];            // presenter mode: the neighbourhood fills the stage, scaled
                                       // by no less and no more than these
  var MARGIN = 24;                     // SVG units around the neighbourhood in presenter mode

  function title(g) {
    var t = g.querySelector("title");
    return t ? t.textContent : "";
  }

  function union(elements) {           // the client rectangle covering all the elements
    var box = {left: Infinity, top: Infinity, right: -Infinity, bottom: -Infinity};
    elements.forEach(function (e) {
      var r = e.getBoundingClientRect();
      box.left = Math.min(box.left, r.left); box.top = Math.min(box.top, r.top);
      box.right = Math.max(box.right, r.right); box.bottom = Math.max(box.bottom, r.bottom);
    });
    return box;
  }

  function Player(root) {
    function part(id) { return root.querySelector("#" + id); }
    var frames = root.querySelectorAll(".frame"), stage = part("stage"), caption = part("caption");
    var counter = part("counter"), playButton = part("play"), hint = part("hint");
    var interval = Number(root.getAttribute("data-interval")) || 1200;
    var index = 0, timer = null, zoom = 1, fit = false, presenter = false;

    function wholeBox(svg) {           // the frame's own viewBox, kept before presenter mode crops it
      if (!svg.hasAttribute("data-whole")) {
        var v = svg.viewBox.baseVal, b = v && v.width ? v : svg.getBBox();
        svg.setAttribute("data-whole", [b.x, b.y, b.width, b.height].join(" "));
      }
      var w = svg.getAttribute("data-whole").split(" ").map(Number);
      return {x: w[0], y: w[1], w: w[2], h: w[3]};
    }

    function place(svg, box, scale) {  // show `box` of the SVG at `scale` px per unit
      svg.setAttribute("viewBox", [box.x, box.y, box.w, box.h].join(" "));
      svg.style.width = box.w * scale + "px";
      svg.style.height = box.h * scale + "px";
    }

    function neighbourhood(svg) {      // the current nodes, their edges and the nodes at their ends
      var current = Array.prototype.slice.call(svg.querySelectorAll(".current"));
      var names = {}, near = {};
      current.forEach(function (g) { names[title(g)] = near[title(g)] = true; });
      var edges = Array.prototype.filter.call(svg.querySelectorAll("g.edge"), function (edge) {
        var ends = title(edge).split(/->|--/).map(function (s) { return s.split(":")[0].trim(); });
        var touches = ends.length === 2 && (names[ends[0]] || names[ends[1]]);
        if (touches) near[ends[0]] = near[ends[1]] = true;
        return touches;
      });
      var nodes = Array.prototype.filter.call(svg.querySelectorAll("g.node"), function (node) {
        return near[title(node)] && current.indexOf(node) < 0;
      });
      return current.length ? current.concat(edges, nodes) : [];
    }

    function follow(svg) {             // scroll the stage so the current step is in its middle
      var current = Array.prototype.slice.call(svg.querySelectorAll(".current"));
      if (!current.length) return;
      var c = union(current), s = stage.getBoundingClientRect();
      var width = stage.clientWidth, height = stage.clientHeight;
      stage.scrollLeft += c.right - c.left > width ? c.left - s.left
                                                   : (c.left + c.right - width) / 2 - s.left;
      stage.scrollTop += c.bottom - c.top > height ? c.top - s.top
                                                   : (c.top + c.bottom - height) / 2 - s.top;
    }

    function layout() {
      var svg = frames[index].querySelector("svg");
      if (!svg) return;
      var whole = wholeBox(svg), width = stage.clientWidth, height = stage.clientHeight;
      var fitted = Math.min(width / whole.w, height / whole.h);
      place(svg, whole, fit ? fitted : Math.max(READABLE, Math.min(PT, width / whole.w)) * zoom);
      var near = presenter ? neighbourhood(svg) : [];
      svg.querySelectorAll("g.node, g.edge, g.cluster").forEach(function (g) {
        g.classList.toggle("far", near.length > 0 && near.indexOf(g) < 0);
      });
      if (near.length) {               // crop to the neighbourhood, in the SVG's own units
        var r = svg.getBoundingClientRect(), u = whole.w / r.width, n = union(near);
        var box = {x: whole.x + (n.left - r.left) * u - MARGIN,
                   y: whole.y + (n.top - r.top) * u - MARGIN,
                   w: (n.right - n.left) * u + 2 * MARGIN, h: (n.bottom - n.top) * u + 2 * MARGIN};
        var scale = Math.min(width / box.w, height / box.h);
        place(svg, box, Math.max(PRESENTER[0], Math.min(PRESENTER[1], scale)) * zoom);
      }
      follow(svg);
    }

    function show(k) {
      index = Math.max(0, Math.min(frames.length - 1, k));
      frames.forEach(function (f, i) { f.hidden = i !== index; });
      counter.textContent = "step " + (index + 1) + " of " + frames.length;
      caption.textContent = frames[index].getAttribute("data-caption");
      layout();
    }
    function stop() {
      clearInterval(timer); timer = null;
      playButton.innerHTML = "&#9654; play"; root.setAttribute("data-playing", "false");
    }
    function play() {
      if (timer) { stop(); return; }
      if (index === frames.length - 1) show(0);
      playButton.innerHTML = "&#10074;&#10074; pause"; root.setAttribute("data-playing", "true");
      timer = setInterval(function () {
        if (index === frames.length - 1) stop(); else show(index + 1);
      }, interval);
    }
    function step(k) { return function () { stop(); show(k()); }; }
    function setView(fitted, presenting, zoomed) {   // then lay the frame out again
      fit = fitted; presenter = presenting; zoom = zoomed;
      root.classList.toggle("presenter", presenter);
      part("fit").setAttribute("aria-pressed", String(fit));
      part("presenter").setAttribute("aria-pressed", String(presenter));
      layout();
    }
    function zoomBy(factor) { return function () { setView(false, presenter, zoom * factor); }; }
    function toggleFit() { setView(!fit, false, 1); }
    function togglePresenter() { setView(false, !presenter, 1); }
    var previous = step(function () { return index - 1; });
    var next = step(function () { return index + 1; });
    var actions = {prev: previous, play: play, next: next, "zoom-out": zoomBy(0.8), fit: toggleFit,
                   "zoom-in": zoomBy(1.25), presenter: togglePresenter};
    var keys = {ArrowRight: next, PageDown: next, ArrowLeft: previous, PageUp: previous, " ": play,
                Home: step(function () { return 0; }),
                End: step(function () { return frames.length - 1; }),
                "+": actions["zoom-in"], "=": actions["zoom-in"], "-": actions["zoom-out"],
                f: toggleFit, "0": function () { setView(false, presenter, 1); }, p: togglePresenter};

    Object.keys(actions).forEach(function (id) {
      var button = part(id);
      button.addEventListener("mousedown", function (e) { e.preventDefault(); });  // keep the focus
      button.addEventListener("click", function () {
        actions[id]();
        root.focus({preventScroll: true});
      });
    });
    root.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey || !keys.hasOwnProperty(e.key)) return;
      if (e.target.tagName === "BUTTON" && (e.key === " " || e.key === "Enter")) return;
      e.preventDefault();
      keys[e.key]();
    });
    function updateFocus() {           // the hint and the frame say whether the keys reach the player
      var focused = document.hasFocus() && root.contains(document.activeElement);
      root.classList.toggle("focused", focused);
      hint.textContent = focused
        ? "keys: \u2190 \u2192 step, space play, + \u2212 f zoom, p presenter"
        : "click the player to use its keys";
    }
    function later() { setTimeout(updateFocus, 0); }   // once the focus has settled
    ["focusin", "focusout"].forEach(function (type) { root.addEventListener(type, later); });
    ["focus", "blur"].forEach(function (type) { window.addEventListener(type, later); });
    window.addEventListener("resize", layout);
    stop();
    show(0);
    if (window.self === window.top) root.focus({preventScroll: true});  // a page of its own
    updateFocus();
  }

  document.querySelectorAll(".player").forEach(Player);
})();
