/**
 * The room's page: plain HTML, CSS and a little script, no framework. It is served by the actor through the
 * gateway at `/gateway/<actorId>/`, so it builds every URL relative to its own location.
 */

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page of room `room`. */
export function renderPage(room: string): string {
	const title = escapeHtml(room);
	return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title># ${title} · chat</title>
<style>
  :root { --bg: #f4f5fb; --card: #fff; --ink: #1d2333; --muted: #6b7390; --line: #e5e7f0; --accent: #5b5bd6;
    --mine: #5b5bd6; --theirs: #eef0f7; --ok: #1f9d6b; --warn: #d98a00; --off: #9aa1b6; }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; padding: 24px;
    font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
    background: radial-gradient(circle at 20% 0%, #e6e8ff 0, transparent 45%), var(--bg); }
  main { width: min(720px, 100%); height: min(760px, calc(100vh - 48px)); display: flex; flex-direction: column;
    background: var(--card); border: 1px solid var(--line); border-radius: 18px;
    box-shadow: 0 12px 40px rgba(29, 35, 51, .08); overflow: hidden; }
  header { display: flex; align-items: center; justify-content: space-between; gap: 12px;
    padding: 16px 20px; border-bottom: 1px solid var(--line); }
  h1 { margin: 0; font-size: 18px; } h1 span { color: var(--muted); font-weight: 500; }
  #status { display: inline-flex; align-items: center; gap: 8px; padding: 5px 12px; border-radius: 999px;
    background: var(--theirs); color: var(--muted); font-size: 13px; white-space: nowrap; }
  #status::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--off); }
  #status[data-state="awake"]::before { background: var(--ok); box-shadow: 0 0 0 3px rgba(31, 157, 107, .18); }
  #status[data-state="asleep"]::before { background: var(--warn); box-shadow: 0 0 0 3px rgba(217, 138, 0, .18); }
  #log { flex: 1; overflow-y: auto; padding: 20px; display: flex; flex-direction: column; gap: 10px; }
  .empty { margin: auto; color: var(--muted); text-align: center; }
  .msg { max-width: 78%; align-self: flex-start; }
  .msg .meta { font-size: 12px; color: var(--muted); margin: 0 4px 3px; }
  .msg .text { padding: 9px 13px; border-radius: 14px 14px 14px 4px; background: var(--theirs);
    white-space: pre-wrap; overflow-wrap: anywhere; }
  .msg.mine { align-self: flex-end; text-align: right; }
  .msg.mine .text { background: var(--mine); color: #fff; border-radius: 14px 14px 4px 14px; text-align: left; }
  .note { align-self: center; font-size: 12px; color: var(--muted); padding: 2px 10px; border-radius: 999px;
    background: #f6f7fb; }
  form { display: flex; gap: 8px; padding: 14px; border-top: 1px solid var(--line); background: #fafbfe; }
  input { font: inherit; padding: 10px 12px; border: 1px solid var(--line); border-radius: 10px; background: #fff;
    color: var(--ink); min-width: 0; }
  input:focus { outline: 2px solid rgba(91, 91, 214, .35); border-color: var(--accent); }
  #name { width: 130px; } #text { flex: 1; }
  button { font: inherit; font-weight: 600; padding: 10px 18px; border: 0; border-radius: 10px;
    background: var(--accent); color: #fff; cursor: pointer; }
  button:hover { filter: brightness(1.08); }
  footer { padding: 0 20px 12px; font-size: 12px; color: var(--muted); background: #fafbfe; }
</style>
</head>
<body>
<main>
  <header>
    <h1><span>#</span> ${title}</h1>
    <div id="status" data-state="connecting">connecting…</div>
  </header>
  <div id="log"><p class="empty">No messages yet. Say hello!</p></div>
  <form id="composer" autocomplete="off">
    <input id="name" aria-label="Your name" maxlength="40">
    <input id="text" aria-label="Message" placeholder="Write a message…" maxlength="2000" autofocus>
    <button type="submit">Send</button>
  </form>
  <footer>The room actor sleeps when nobody talks; your connection stays open and the next message wakes it.</footer>
</main>
<script>
(function () {
  var base = location.href.split(/[?#]/)[0].replace(/\\/?$/, "/");
  var wsUrl = base.replace(/^http/, "ws") + "ws"; // keeps the /gateway/<actorId>/ prefix
  var log = document.getElementById("log"), status = document.getElementById("status");
  var nameInput = document.getElementById("name"), textInput = document.getElementById("text");
  nameInput.value = localStorage.getItem("chat-name") || "guest-" + Math.floor(1000 + Math.random() * 9000);
  var socket, retries = 0, outbox = [], lastSeq = 0;

  var LABELS = { connecting: "connecting…", awake: "connected · room awake",
    asleep: "connected · room asleep (your next message wakes it)", reconnecting: "reconnecting…" };
  function setStatus(state) { status.dataset.state = state; status.textContent = LABELS[state]; }

  function time(ms) { return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); }
  function add(m) { // in seq order, once
    if (log.querySelector('[data-seq="' + m.seq + '"]')) return;
    var empty = log.querySelector(".empty"); if (empty) empty.remove();
    var el = document.createElement("div");
    el.className = "msg" + (m.from === nameInput.value ? " mine" : "");
    el.dataset.seq = m.seq;
    var meta = document.createElement("div"); meta.className = "meta"; meta.textContent = m.from + " · " + time(m.at);
    var text = document.createElement("div"); text.className = "text"; text.textContent = m.text;
    el.append(meta, text);
    var later = Array.prototype.find.call(log.querySelectorAll(".msg"), function (x) { return +x.dataset.seq > m.seq; });
    log.insertBefore(el, later || null);
    if (m.seq > lastSeq) { lastSeq = m.seq; log.scrollTop = log.scrollHeight; }
  }
  function catchUp() { // fills a gap from GET history (only while the room is awake: a request would wake it)
    fetch(base + "history").then(function (r) { return r.json(); })
      .then(function (h) { h.messages.forEach(add); }).catch(function () {});
  }
  function note(text) {
    var el = document.createElement("div"); el.className = "note"; el.textContent = text;
    log.append(el); log.scrollTop = log.scrollHeight;
  }

  function connect() {
    socket = new WebSocket(wsUrl, ["rivet"]);
    socket.onmessage = function (e) {
      var event = JSON.parse(e.data);
      if (event.type === "hello") {
        retries = 0; lastSeq = 0; log.replaceChildren(); event.history.forEach(add);
        if (!event.history.length) log.innerHTML = '<p class="empty">No messages yet. Say hello!</p>';
        setStatus("awake"); outbox.splice(0).forEach(function (m) { socket.send(m); });
      } else if (event.type === "message") {
        // Right after a wake the engine may drop what the room sends to a restored socket (see room.ts): a message
        // proves the room is awake, and a jump in seq means one went missing, so fetch it.
        if (status.dataset.state === "asleep") { note("the room woke up"); setStatus("awake"); }
        var gap = event.message.seq > lastSeq + 1;
        add(event.message);
        if (gap) catchUp();
      } else if (event.type === "status") {
        event.recent.forEach(add);
        if (event.status !== status.dataset.state)
          note(event.status === "asleep" ? "the room went to sleep · you are still connected" : "the room woke up");
        setStatus(event.status);
      } else if (event.type === "error") {
        note("⚠ " + event.error);
      }
    };
    socket.onclose = function () {
      setStatus("reconnecting");
      setTimeout(connect, Math.min(10000, 500 * Math.pow(2, retries++)));
    };
  }

  document.getElementById("composer").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = textInput.value.trim(); if (!text) return;
    localStorage.setItem("chat-name", nameInput.value.trim());
    var data = JSON.stringify({ type: "chat", from: nameInput.value.trim(), text: text });
    if (socket && socket.readyState === 1 && status.dataset.state !== "reconnecting") socket.send(data);
    else outbox.push(data);
    textInput.value = ""; textInput.focus();
  });
  setStatus("connecting"); connect();
})();
</script>
</body>
</html>
`;
}
