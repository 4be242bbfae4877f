/* A conversation, live: messages and read marks arrive over ws/chat/<id>/; a message is sent
   over the socket with a key of its own, shown at once as "Sending…", and sent again with the
   same key after a dropped connection (the server keeps one message per key). Without the
   socket the form posts as a plain form. What this side reads while the page is visible is
   marked read. */
(() => {
  const list = document.getElementById("messages");
  if (!list || !("WebSocket" in window)) return;
  const form = document.getElementById("chat-form");
  const input = document.getElementById("chat-text");
  const error = document.getElementById("chat-error");
  const live = document.getElementById("chat-live");
  const side = list.dataset.side;
  const d = list.dataset;
  const t = {sent: d.tSent, read: d.tRead, sending: d.tSending, picture: d.tPicture, order: d.tOrder,
    live: d.tLive, offline: d.tOffline, pictureUrl: d.pictureUrl, zone: d.zone, lang: d.lang};
  const zh = t.lang.startsWith("zh");
  const parts = new Intl.DateTimeFormat(t.lang, {month: zh ? "numeric" : "short", day: "numeric",
    weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: t.zone});
  const clock = {format(at) {  /* as display.moment writes it: Mon 7 Dec 09:00, 12月7日 周一 09:00 */
    const p = Object.fromEntries(parts.formatToParts(at).map((x) => [x.type, x.value]));
    return zh ? `${p.month}月${p.day}日 ${p.weekday} ${p.hour}:${p.minute}`
      : `${p.weekday} ${p.day} ${p.month} ${p.hour}:${p.minute}`;
  }};
  const pending = new Map();  // key -> text, until the server says it is stored
  let socket = null, wait = 1000, lastRead = 0;

  const newKey = () => (window.crypto && crypto.randomUUID) ? crypto.randomUUID().replace(/-/g, "")
    : Date.now().toString(36) + Math.random().toString(36).slice(2);
  const lastTheirs = () => {
    const all = list.querySelectorAll(".msg.theirs[data-id]");
    return all.length ? Number(all[all.length - 1].dataset.id) : 0;
  };
  function readNow() {
    const upTo = lastTheirs();
    if (upTo > lastRead && document.visibilityState === "visible" && socket && socket.readyState === 1) {
      socket.send(JSON.stringify({type: "read", up_to: upTo}));
      lastRead = upTo;
    }
  }
  function bubble(m, mine) {
    const li = document.createElement("li");
    li.className = "msg " + (mine ? "mine" : "theirs");
    li.dataset.key = m.key;
    if (m.id) li.dataset.id = m.id;
    li.dataset.side = m.side || side;
    if (m.kind === "image") {
      const img = document.createElement("img");
      img.src = t.pictureUrl.replace(/0\/$/, m.id + "/");
      img.alt = t.picture;
      li.append(img);
    } else if (m.kind === "order" && m.card) {
      const card = document.createElement("span");
      card.className = "order-card";
      const b = document.createElement("strong");
      b.textContent = `${t.order} ${m.card.code}`;
      card.append(b);
      li.append(card);
    } else {
      const span = document.createElement("span");
      span.className = "text";
      span.textContent = m.text;
      li.append(span);
    }
    const meta = document.createElement("small");
    meta.className = "meta";
    const time = document.createElement("time");
    time.textContent = clock.format(m.at ? new Date(m.at) : new Date());
    meta.append(time);
    if (mine) {
      const tick = document.createElement("span");
      tick.className = "tick";
      tick.dataset.read = "0";
      tick.textContent = m.id ? t.sent : t.sending;
      meta.append(" · ", tick);
    }
    li.append(meta);
    document.getElementById("no-messages")?.remove();
    list.append(li);
    li.scrollIntoView({block: "end"});
    return li;
  }
  function onMessage(m) {
    const mine = m.side === side;
    const shown = list.querySelector(`.msg[data-key="${CSS.escape(m.key)}"]`);
    if (shown) {  // our own, shown while sending: now it is stored (its phone numbers masked)
      shown.dataset.id = m.id;
      const text = shown.querySelector(".text");
      if (text && m.kind === "text") text.textContent = m.text;
      const tick = shown.querySelector(".tick");
      if (tick && tick.dataset.read !== "1") tick.textContent = t.sent;
    } else if (!list.querySelector(`.msg[data-id="${m.id}"]`)) {
      bubble(m, mine);
    }
    if (mine) pending.delete(m.key);
    else readNow();
  }
  function onRead(e) {
    if (e.side === side) return;  // our own reading (another of our pages)
    list.querySelectorAll(".msg.mine[data-id]").forEach((li) => {
      if (Number(li.dataset.id) <= e.up_to) {
        const tick = li.querySelector(".tick");
        if (tick) { tick.dataset.read = "1"; tick.textContent = t.read; }
      }
    });
  }
  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws/chat/${list.dataset.conversation}/`);
    socket.onmessage = (event) => {
      const m = JSON.parse(event.data);
      if (m.type === "ready") {
        wait = 1000;
        live.textContent = t.live;
        live.dataset.live = "1";
        for (const [key, text] of pending) socket.send(JSON.stringify({type: "send", key, text}));
        readNow();
      } else if (m.type === "message") onMessage(m);
      else if (m.type === "read") onRead(m);
      else if (m.type === "sent") onMessage(m);
      else if (m.type === "refused") {
        pending.delete(m.key);
        list.querySelector(`.msg[data-key="${CSS.escape(m.key || "")}"]`)?.remove();
        error.textContent = m.detail;
        error.hidden = false;
      }
    };
    socket.onclose = (event) => {
      live.dataset.live = "0";
      if (event.code === 4403) return;
      live.textContent = t.offline;
      setTimeout(connect, wait);
      wait = Math.min(wait * 2, 30000);
    };
  }
  if (form) form.addEventListener("submit", (event) => {
    if (!socket || socket.readyState !== 1) return;  // the plain form posts
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    error.hidden = true;
    const key = newKey();
    pending.set(key, text);
    bubble({key, text, kind: "text"}, true);
    socket.send(JSON.stringify({type: "send", key, text}));
    input.value = "";
    input.focus();
  });
  input?.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  document.addEventListener("visibilitychange", readNow);
  list.lastElementChild?.scrollIntoView({block: "end"});
  connect();
})();
