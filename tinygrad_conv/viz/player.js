(function () {
  var frames = document.querySelectorAll(".frame");
  var counter = document.getElementById("counter"), caption = document.getElementById("caption");
  var playButton = document.getElementById("play"), index = 0, timer = null;
  function show(k) {
    index = Math.max(0, Math.min(frames.length - 1, k));
    frames.forEach(function (f, i) { f.hidden = i !== index; });
    counter.textContent = "step " + (index + 1) + " of " + frames.length;
    caption.textContent = frames[index].getAttribute("data-caption");
  }
  function stop() { clearInterval(timer); timer = null; playButton.innerHTML = "&#9654; play"; }
  function play() {
    if (timer) { stop(); return; }
    if (index === frames.length - 1) show(0);
    playButton.innerHTML = "&#10074;&#10074; pause";
    timer = setInterval(function () {
      if (index === frames.length - 1) stop(); else show(index + 1);
    }, $interval);
  }
  document.getElementById("prev").onclick = function () { stop(); show(index - 1); };
  document.getElementById("next").onclick = function () { stop(); show(index + 1); };
  playButton.onclick = play;
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") { stop(); show(index + 1); }
    else if (e.key === "ArrowLeft") { stop(); show(index - 1); }
    else if (e.key === " ") { e.preventDefault(); play(); }
  });
  show(0);
})();
