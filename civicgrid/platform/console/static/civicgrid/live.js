// Live updates on every console page: the unread counter, a toast for each new
// notification, and a hint when a case on the page changed. The socket is only a
// nudge: on every (re)connect it passes the newest notification id this page has
// seen, and the server sends what was missed from the store. Reads made in another
// tab come back as "read" and the counter follows. Texts come from data attributes
// (translated by the server); nothing here is inline in the page.
(function () {
  "use strict";

  const body = document.body;
  const path = body.dataset.liveSocket;
  const toasts = document.querySelector("[data-live-toasts]");
  if (!path || !toasts || !window.WebSocket) return;

  const counters = document.querySelectorAll("[data-live-unread]");
  const readForm = document.querySelector("form[data-live-read]");
  const text = toasts.dataset;
  const MAX_TOASTS = 5;
  const TOAST_SECONDS = 20;
  let since = parseInt(body.dataset.liveSince || "0", 10) || 0;
  let socket = null;
  let retry = 0;
  let pinger = null;
  let offlineNote = null;
  let changedCases = 0;

  function setUnread(count) {
    counters.forEach(function (counter) {
      counter.textContent = String(count);
      counter.hidden = count <= 0;
    });
  }

  function element(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content) node.textContent = content;
    return node;
  }

  function dismiss(toast) {
    toast.classList.add("leaving");
    setTimeout(function () { toast.remove(); }, 200);
  }

  function showToast(notification, missed) {
    const toast = element("div", "toast" + (missed ? " missed" : ""));
    toast.dataset.notification = notification.id;
    toast.setAttribute("role", "status");
    if (missed) toast.appendChild(element("div", "toast-note", text.textMissed));
    if (notification.number) toast.appendChild(element("div", "toast-number", notification.number));
    toast.appendChild(element("div", "toast-title", notification.title));
    if (notification.case_title) toast.appendChild(element("div", "toast-case", notification.case_title));
    const row = element("div", "toast-actions");
    if (notification.url) {
      const open = element("a", "toast-open", text.textOpen);
      open.href = notification.url;
      open.addEventListener("click", function (event) {
        // Marked read on the way (the other tabs' counters follow); plain link if that fails.
        if (!readForm) return;
        event.preventDefault();
        readForm.action = readForm.action.replace(/\/\d+\/read\/$/, "/" + notification.id + "/read/");
        readForm.submit();
      });
      row.appendChild(open);
    }
    const close = element("button", "toast-close", text.textClose);
    close.type = "button";
    close.addEventListener("click", function () { dismiss(toast); });
    row.appendChild(close);
    toast.appendChild(row);
    toasts.appendChild(toast);
    while (toasts.querySelectorAll(".toast").length > MAX_TOASTS) toasts.querySelector(".toast").remove();
    setTimeout(function () { if (toast.isConnected) dismiss(toast); }, TOAST_SECONDS * 1000);
  }

  function markReadOnPage(ids) {
    ids.forEach(function (id) {
      document.querySelectorAll('[data-notification="' + id + '"]').forEach(function (node) {
        if (node.classList.contains("toast")) { node.remove(); return; }
        node.classList.remove("unread");
        node.classList.add("read");
        const button = node.querySelector("[data-mark-read]");
        if (button) button.closest("form").remove();
      });
    });
  }

  function banner(key, message) {
    let note = document.querySelector('[data-live-banner="' + key + '"]');
    if (!note) {
      note = element("div", "live-banner");
      note.dataset.liveBanner = key;
      const label = element("span");
      const refresh = element("a", "", text.textRefresh);
      refresh.href = window.location.href;
      note.append(label, " ", refresh);
      const main = document.querySelector("main");
      main.insertBefore(note, main.firstChild);
    }
    note.querySelector("span").textContent = message;
  }

  function caseChanged(change) {
    const open = document.querySelector("[data-live-case]");
    if (open && String(change.id) === open.dataset.liveCase) {
      banner("case", text.textThisCase);
    } else if (document.querySelector("[data-live-cases]")) {
      changedCases += 1;
      banner("cases", text.textCases + " (" + changedCases + ")");
    }
  }

  function receive(message) {
    if (message.type === "hello") {
      retry = 0;
      setUnread(message.unread);
      if (offlineNote) { offlineNote.remove(); offlineNote = null; }
    } else if (message.type === "notification") {
      const notification = message.notification;
      if (notification.id > since) {  // the same one may come live and as missed: once
        since = notification.id;
        showToast(notification, message.missed);
        // What someone was told of, moved: no separate case message comes for it.
        if (notification.case && !message.missed) caseChanged({ id: notification.case });
      }
      setUnread(message.unread);
    } else if (message.type === "read") {
      markReadOnPage(message.ids || []);
      setUnread(message.unread);
    } else if (message.type === "case") {
      caseChanged(message.case);
    }
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + path + "?since=" + since);
    socket.addEventListener("message", function (event) {
      try { receive(JSON.parse(event.data)); } catch (error) { /* a malformed nudge is ignored */ }
    });
    socket.addEventListener("open", function () {
      pinger = setInterval(function () {
        if (socket.readyState === WebSocket.OPEN) socket.send('{"type":"ping"}');
      }, 60000);
    });
    socket.addEventListener("close", function (event) {
      clearInterval(pinger);
      if (event.code === 4401 || event.code === 4404) return;  // signed out, or not a member here
      if (retry >= 2 && !offlineNote) {
        offlineNote = element("div", "toast offline", text.textOffline);
        toasts.appendChild(offlineNote);
      }
      // Back off to at most half a minute, with jitter so a restarted server is not hit at once.
      const delay = Math.min(30000, 1000 * Math.pow(2, retry)) * (0.5 + Math.random() / 2);
      retry += 1;
      setTimeout(connect, delay);
    });
  }

  connect();
})();
