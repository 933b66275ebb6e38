// The reading page's heartbeat (学习教育). Counts a second only while the page is visible and the reader has
// scrolled, typed, touched or moved the pointer within the last two minutes; every 15 counted seconds it
// tells the server, which credits at most 30 seconds per heartbeat and never more than the time since the
// previous one. The first heartbeat of a visit only starts the server's clock: opening a material and
// leaving at once records nothing. No other data is sent.
(function () {
  "use strict";
  var reader = document.getElementById("reader");
  if (!reader || !window.fetch) { return; }
  var id = reader.getAttribute("data-material");
  var bar = document.getElementById("study-bar");
  var text = document.getElementById("study-text");
  var state = document.getElementById("study-state");
  // The page's anti-forgery token: the heartbeat rides on the session cookie, so it must carry it.
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var IDLE_MS = 120000, EVERY = 15;
  var lastActive = Date.now(), counted = 0, started = false, sending = false;

  function active() { lastActive = Date.now(); }
  ["scroll", "keydown", "pointermove", "pointerdown", "touchstart", "wheel"].forEach(function (e) {
    window.addEventListener(e, active, { passive: true });
  });

  function show(p) {
    if (!p) { return; }
    if (bar) { bar.max = p.required_seconds; bar.value = Math.min(p.seconds, p.required_seconds); }
    if (text) {
      var done = Math.floor(p.seconds / 60), need = Math.ceil(p.required_seconds / 60);
      text.textContent = p.completed ? "已学完" : "已学习" + done + "分钟，约" + need + "分钟可学完";
    }
    if (state && p.completed) { state.textContent = "已学完"; state.className = "pill ok"; }
  }

  function beat(seconds) {
    if (sending) { return; }
    sending = true;
    fetch("/api/v1/learning/materials/" + encodeURIComponent(id) + "/progress", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ seconds: seconds })
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(show)
      .catch(function () {})
      .then(function () { sending = false; });
  }

  function visible() { return document.visibilityState === "visible"; }

  setInterval(function () {
    if (!visible() || Date.now() - lastActive > IDLE_MS) { return; }
    if (!started) { started = true; beat(0); return; }
    counted += 1;
    if (counted >= EVERY) { beat(counted); counted = 0; }
  }, 1000);
  document.addEventListener("visibilitychange", function () {
    if (!visible() && counted > 0) { beat(counted); counted = 0; }
  });
})();
