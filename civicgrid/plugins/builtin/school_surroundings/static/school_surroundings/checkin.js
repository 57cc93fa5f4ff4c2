// School patrol check-in on the phone: the position from the phone (GPS), sent with the
// phone's own key in Idempotency-Key. Without network the check-in is kept on the phone
// (localStorage, with the time it was made) and sent when the network is back; the server
// counts one check-in per key, so sending again never makes a second one.
(function () {
  "use strict";
  var QUEUE = "civicgrid-school-patrol";
  var TEXT = (document.querySelector("[data-checkin-text]") || { dataset: {} }).dataset;
  var APP_TEXT = (document.querySelector("[data-text]") || { dataset: {} }).dataset;  // the worker app's
  var problem = document.querySelector("[data-checkin-problem]");
  var status = document.querySelector("[data-checkin-status]");
  var USER = document.body.dataset.user || "";

  function say(text, isProblem) {
    if (isProblem) { problem.textContent = text; problem.hidden = !text; if (status) status.textContent = ""; }
    else { if (status) status.textContent = text || ""; problem.hidden = true; }
  }
  function queue() {
    try { return JSON.parse(window.localStorage.getItem(QUEUE) || "[]"); } catch (e) { return []; }
  }
  function keep(items) {
    try { window.localStorage.setItem(QUEUE, JSON.stringify(items)); return true; } catch (e) { return false; }
  }
  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function send(item) {
    var body = new URLSearchParams(item.fields);
    return fetch(item.url, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "Accept": "application/json", "Idempotency-Key": item.key, "X-CSRFToken": csrf() || item.csrf }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        return { status: response.status, answer: answer };
      });
    });
  }
  // What the server said, as the person should read it: its reason, else its messages by field
  // (plain strings, or Django's {message: ...}), else a translated sentence from the page.
  function reasonOf(result) {
    var answer = result.answer || {};
    if (answer.reason) return String(answer.reason);
    var lines = [];
    Object.keys(answer.errors || {}).forEach(function (field) {
      [].concat(answer.errors[field]).forEach(function (error) {
        var text = error && typeof error === "object" ? error.message : error;
        if (text) lines.push(String(text));
      });
    });
    if (lines.length) return lines.join(" ");
    if (result.status === 404 || result.status === 410) return TEXT.gone || APP_TEXT.gone || "";
    if (result.status === 413) return TEXT.tooLarge || APP_TEXT.tooLarge || "";
    return TEXT.refused || APP_TEXT.refusedUnknown || "";
  }
  function settle(item, result) {
    var left = queue().filter(function (other) { return other.key !== item.key; });
    if (result.status >= 200 && result.status < 300) {
      keep(left);
      say(result.answer.message || "", false);
      var section = document.querySelector('[data-patrol-slot="' + item.slot + '"]');
      if (section) { section.dataset.state = "done"; var form = section.querySelector("form"); if (form) form.remove(); }
      return true;
    }
    if ([400, 404, 410, 413].indexOf(result.status) >= 0) {
      keep(left);  // refused: sending it again would be refused again
      say(reasonOf(result), true);
      return false;
    }
    return false;  // 5xx, signed out: keep it and try later
  }
  function flush() {
    queue().filter(function (item) { return item.user === USER; }).reduce(function (chain, item) {
      return chain.then(function () {
        return send(item).then(function (result) { settle(item, result); }, function () { /* still offline */ });
      });
    }, Promise.resolve());
  }

  function locate() {
    return new Promise(function (resolve, reject) {
      if (!("geolocation" in navigator)) { reject(new Error("no geolocation")); return; }
      navigator.geolocation.getCurrentPosition(function (position) { resolve(position.coords); }, reject,
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
    });
  }

  document.querySelectorAll("[data-checkin-form]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("[data-checkin]");
      if (button) button.disabled = true;
      say(TEXT.sending, false);
      locate().then(function (coords) {
        form.elements.latitude.value = coords.latitude.toFixed(6);
        form.elements.longitude.value = coords.longitude.toFixed(6);
        form.elements.checked_at.value = new Date().toISOString();
        var fields = {};
        new FormData(form).forEach(function (value, name) { if (name !== "csrfmiddlewaretoken") fields[name] = value; });
        var item = { key: fields.device_key, url: form.action, fields: fields, slot: fields.slot, user: USER, csrf: csrf() };
        var items = queue().filter(function (other) { return other.key !== item.key; });
        items.push(item);
        keep(items);
        return send(item).then(function (result) { settle(item, result); }, function () { say(TEXT.kept, false); });
      }, function () { say(TEXT.noPosition, true); }).then(function () { if (button) button.disabled = false; });
    });
  });
  window.addEventListener("online", flush);
  if (navigator.onLine) flush();
})();
