// 平安通, the grid worker's phone app: the offline queue of reports, the position from the
// phone or a tap on the grid's map, the service worker, the network badge.
//
// A report is first kept in IndexedDB under a key made here (a UUID), then sent with that key
// in the Idempotency-Key header. It leaves IndexedDB only after a 2xx answer; the server makes
// one case per key, so sending again after a lost answer cannot make a second one.
//
// Any other form marked data-offline-form with its own data-endpoint goes the same way: all its
// named fields and its files (per field name) are kept, then sent to that endpoint with the key.
// It is checked before it is kept (what the server would refuse anyway): every required radio
// group answered, a file where data-required-if="name=value" holds, other required fields
// filled, and a position where the form says data-require-position. A refused one stays in the
// list with the reasons (by the field's label) until it is discarded.
(function () {
  "use strict";
  var body = document.body;
  if (!body || !body.hasAttribute("data-worker-app")) return;
  var TEXT = (document.querySelector("[data-text]") || { dataset: {} }).dataset;
  var USER = body.dataset.user || "";
  var ENDPOINT = body.dataset.endpoint;
  var FIELDS = ["category", "title", "description", "latitude", "longitude", "address", "urgency"];
  var DB_NAME = "civicgrid-worker", STORE = "reports";

  // --- the service worker: installable, and the report page opens offline -----------------------
  if ("serviceWorker" in navigator && body.dataset.serviceWorker) {
    navigator.serviceWorker.register(body.dataset.serviceWorker, { scope: body.dataset.scope })
      .catch(function () { /* the app works without it, only not offline */ });
  }

  // --- the network badge, and a page kept from before ------------------------------------------
  var net = document.querySelector("[data-net]");
  function showNetwork() {
    var online = navigator.onLine;
    if (net) {
      net.textContent = online ? net.dataset.online : net.dataset.offline;
      net.classList.toggle("offline", !online);
    }
    body.classList.toggle("is-offline", !online);
    var stale = document.querySelector("[data-stale]");
    var rendered = parseInt(body.dataset.renderedAt || "0", 10) * 1000;
    // A page older than a minute while offline came from the service worker's cache.
    if (stale && !online && rendered && Date.now() - rendered > 60000) {
      stale.querySelector("[data-stale-time]").textContent = new Date(rendered).toLocaleString();
      stale.hidden = false;
    } else if (stale) {
      stale.hidden = true;
    }
  }
  // Messages in a kept page belong to its first showing.
  var flash = document.querySelector("[data-flash]");
  if (flash && Date.now() - parseInt(body.dataset.renderedAt || "0", 10) * 1000 > 60000) flash.remove();
  showNetwork();
  window.addEventListener("offline", showNetwork);
  window.addEventListener("online", function () { showNetwork(); flush(); });

  // --- the queue in IndexedDB ----------------------------------------------------------------------
  function openDb() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, { keyPath: "id" }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function inStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode), result;
        var request = work(transaction.objectStore(STORE));
        request.onsuccess = function () { result = request.result; };
        transaction.oncomplete = function () { db.close(); resolve(result); };
        transaction.onerror = transaction.onabort = function () { db.close(); reject(transaction.error); };
      });
    });
  }
  var queue = {
    all: function () { return inStore("readonly", function (store) { return store.getAll(); }); },
    get: function (id) { return inStore("readonly", function (store) { return store.get(id); }); },
    put: function (item) { return inStore("readwrite", function (store) { return store.put(item); }); },
    remove: function (id) { return inStore("readwrite", function (store) { return store.delete(id); }); },
  };

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40; bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function csrfToken() {
    // The cookie is the current one even in a page the service worker kept from before.
    var found = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (found) return decodeURIComponent(found[1]);
    var field = document.querySelector("[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  // One try. Resolves to {state: "sent" | "refused" | "offline" | "sign-in" | "retry", ...}.
  function send(item) {
    var data = new FormData();
    if (item.endpoint) {  // a data-offline-form: every field it had, and its files by field name
      Object.keys(item.fields).forEach(function (name) {
        [].concat(item.fields[name]).forEach(function (value) { data.append(name, value); });
      });
      (item.files || []).forEach(function (file) { data.append(file.field, file.blob, file.name); });
    } else {
      FIELDS.forEach(function (name) { data.append(name, item.fields[name] || ""); });
      (item.photos || []).forEach(function (photo) { data.append("photos", photo.blob, photo.name); });
    }
    return fetch(item.endpoint || ENDPOINT, {
      method: "POST", body: data, credentials: "same-origin", redirect: "manual",
      headers: { "Idempotency-Key": item.id, "X-CSRFToken": csrfToken(), "Accept": "application/json" },
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (response.ok && json) return response.json().then(function (answer) { return { state: "sent", answer: answer }; });
      if (response.status === 400 && json) {
        return response.json().then(function (answer) { return { state: "refused", errors: answer.errors || {} }; });
      }
      // Gone (what it was about was removed, or is no longer this person's) or too large: sending
      // it again would get the same answer, so it is refused, with the reason.
      if (response.status === 404 || response.status === 410) return { state: "refused", errors: { __all__: [TEXT.gone] } };
      if (response.status === 413) return { state: "refused", errors: { __all__: [TEXT.tooLarge] } };
      // A redirect is the sign-in page: the session ended while the phone was away.
      if (response.type === "opaqueredirect" || response.status === 403) return { state: "sign-in" };
      return { state: "retry" };
    }, function () { return { state: "offline" }; });
  }

  // --- sending what waits, in the order it was made ------------------------------------------------
  var sending = {};  // id → what the last try said, for the list (not stored)
  var flushing = null;
  function flush() {
    if (flushing) return flushing;
    flushing = queue.all().then(function (items) {
      var mine = items.filter(function (item) { return item.user === USER && !item.errors && !sending[item.id + ":busy"]; })
        .sort(function (a, b) { return a.created < b.created ? -1 : 1; });
      return mine.reduce(function (chain, item) {
        return chain.then(function (stop) {
          if (stop) return true;
          sending[item.id] = "sending";
          sending[item.id + ":busy"] = true;
          render();
          return settle(item).then(function (result) {
            delete sending[item.id + ":busy"];
            return result.state === "offline" || result.state === "sign-in";  // the rest would fail alike
          });
        });
      }, Promise.resolve(false));
    }).catch(function () { /* no IndexedDB here: nothing can wait */ }).then(function () {
      flushing = null;
      return render();
    }).then(function (waiting) {
      retryLater(waiting);
    });
    return flushing;
  }

  // "online" can come before the network really carries (a phone between cells, a captive
  // portal): while something waits, try again soon, then less and less often.
  var retryDelay = 2000, retryTimer = null;
  function retryLater(waiting) {
    window.clearTimeout(retryTimer);
    var stuck = Object.keys(sending).some(function (key) { return sending[key] === "offline" || sending[key] === "retry"; });
    if (!waiting || !stuck || !navigator.onLine) { retryDelay = 2000; return; }
    retryTimer = window.setTimeout(flush, retryDelay);
    retryDelay = Math.min(retryDelay * 2.5, 60000);
  }

  // Send one, and keep the queue as the answer says.
  function settle(item) {
    return send(item).then(function (result) {
      if (result.state === "sent") {
        delete sending[item.id];
        retryDelay = 2000;
        showSent(result.answer);
        return queue.remove(item.id).then(function () { return result; });
      }
      if (result.state === "refused") {
        delete sending[item.id];
        item.errors = result.errors;
        return queue.put(item).then(function () { return result; });
      }
      sending[item.id] = result.state;
      return result;
    });
  }

  function showSent(answer) {
    var section = document.querySelector("[data-sent-section]"), list = document.querySelector("[data-sent-list]");
    if (!section || !list || !answer) return;
    var entry = document.createElement("li");
    entry.setAttribute("data-sent", answer.number);
    var text = answer.message || answer.number;
    if (answer.url) {
      var link = document.createElement("a");
      link.href = answer.url; link.textContent = text;
      entry.appendChild(link);
    } else {
      entry.textContent = text;
    }
    list.insertBefore(entry, list.firstChild);
    section.hidden = false;
  }

  // --- the list of what waits ----------------------------------------------------------------------
  function render() {
    return queue.all().then(function (items) {
      items.sort(function (a, b) { return a.created < b.created ? -1 : 1; });
      var waiting = items.filter(function (item) { return item.user === USER; });
      document.querySelectorAll("[data-queue-count]").forEach(function (node) { node.textContent = items.length; });
      var badge = document.querySelector("[data-queue-badge]");
      if (badge) badge.hidden = items.length === 0;
      var kept = document.querySelector("[data-form-alert].notice");
      if (kept && items.length === 0) kept.hidden = true;  // "kept on this phone" is over: it went
      var section = document.querySelector("[data-queue-section]");
      var list = document.querySelector("[data-queue-list]");
      var template = document.querySelector("[data-queue-item]");
      if (!section || !list || !template) return waiting.length;
      section.hidden = items.length === 0;
      list.textContent = "";
      items.forEach(function (item) {
        var entry = template.content.firstElementChild.cloneNode(true);
        entry.setAttribute("data-queued", item.id);
        var state = item.user !== USER ? "other-user" : item.errors ? "refused" : sending[item.id] || "waiting";
        entry.setAttribute("data-state", state);
        entry.querySelector("[data-queued-title]").textContent = item.title || item.fields.title || TEXT.noTitle;
        entry.querySelector("[data-queued-when]").textContent = new Date(item.created).toLocaleString([], {
          month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
        var photos = (item.photos || item.files || []).length;
        entry.querySelector("[data-queued-what]").textContent =
          ["", item.label || "", photos ? TEXT.photos + " " + photos : ""].filter(Boolean).join(" · ");
        entry.querySelector("[data-queued-state]").textContent = ({
          waiting: TEXT.waiting, sending: TEXT.sending, offline: TEXT.waiting, "sign-in": TEXT.signIn,
          retry: TEXT.retry, refused: item.endpoint ? TEXT.refusedForm || TEXT.refused : TEXT.refused,
          "other-user": TEXT.otherUser,
        })[state] || "";
        if (item.errors) {
          var errors = entry.querySelector("[data-queued-errors]");
          Object.keys(item.errors).forEach(function (field) {
            var label = (item.labels || {})[field];
            [].concat(item.errors[field]).forEach(function (message) {
              var line = document.createElement("li");
              line.textContent = label ? label + ": " + message : message;
              errors.appendChild(line);
            });
          });
          errors.hidden = false;
          entry.querySelector("[data-queued-actions]").hidden = false;
        }
        var discard = entry.querySelector("[data-queued-discard]");
        discard.addEventListener("click", function () {
          if (window.confirm(TEXT.discard)) queue.remove(item.id).then(render);
        });
        var edit = entry.querySelector("[data-queued-edit]");
        if (edit && item.endpoint) edit.hidden = true;  // corrected on its own page, sent again from there
        else if (edit) edit.addEventListener("click", function () { loadIntoForm(item); });
        list.appendChild(entry);
      });
      return waiting.length;
    }).catch(function () { return 0; });
  }

  // --- the report form --------------------------------------------------------------------------
  var form = document.querySelector("[data-report-form]");
  var correcting = null;  // the refused report being corrected: it goes once the new one is kept
  function reportForm() { return form; }

  function clearErrors(target) {
    var form = target || reportForm();
    form.querySelectorAll(".errorlist[data-added]").forEach(function (node) { node.remove(); });
    form.querySelectorAll(".invalid").forEach(function (node) { node.classList.remove("invalid"); });
    form.querySelector("[data-form-alert]").hidden = true;
  }

  function showErrors(errors, target) {
    var form = target || reportForm();
    Object.keys(errors).forEach(function (field) {
      var holder = form.querySelector('[data-field="' + field + '"]') || form.querySelector('[data-errors-for="__all__"]');
      var list = document.createElement("ul");
      list.className = "errorlist";
      list.setAttribute("data-added", "");
      errors[field].forEach(function (message) {
        var line = document.createElement("li");
        line.textContent = message;
        list.appendChild(line);
      });
      holder.appendChild(list);
      holder.classList.add("invalid");
    });
    var alert = form.querySelector("[data-form-alert]");
    alert.hidden = false;
    alert.scrollIntoView({ block: "center" });
  }

  // What the server would refuse anyway, checked here so a report kept offline is a good one.
  function problems(fields) {
    var errors = {};
    if (!fields.category) errors.category = [TEXT.required];
    if (!fields.title.trim()) errors.title = [TEXT.required];
    if (!(fields.latitude && fields.longitude) && !fields.address.trim()) errors.location = [TEXT.where];
    return errors;
  }

  function loadIntoForm(item) {
    if (!form) return;
    FIELDS.forEach(function (name) { if (form.elements[name]) form.elements[name].value = item.fields[name] || ""; });
    var input = form.elements.photos;
    if (input && window.DataTransfer && (item.photos || []).length) {
      var chosen = new DataTransfer();
      item.photos.forEach(function (photo) { chosen.items.add(new File([photo.blob], photo.name, { type: photo.type })); });
      input.files = chosen.files;
      showPreviews();
    }
    if (item.fields.latitude && item.fields.longitude) placeHere(parseFloat(item.fields.latitude), parseFloat(item.fields.longitude));
    correcting = item.id;
    clearErrors();
    if (item.errors) showErrors(item.errors);
  }

  function keptLocally(message, target) {
    var form = target || reportForm();
    var alert = form.querySelector("[data-form-alert]");
    alert.textContent = message;
    alert.hidden = false;
    alert.classList.add("notice");
  }

  if (form) {
    var alertText = form.querySelector("[data-form-alert]").textContent;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors();
      var alert = form.querySelector("[data-form-alert]");
      alert.textContent = alertText;
      alert.classList.remove("notice");
      var fields = {};
      FIELDS.forEach(function (name) { fields[name] = form.elements[name] ? form.elements[name].value : ""; });
      var found = problems(fields);
      if (Object.keys(found).length) { showErrors(found); return; }
      var category = form.elements.category;
      var item = {
        id: newKey(), user: USER, created: new Date().toISOString(), fields: fields,
        label: category.selectedIndex >= 0 ? category.options[category.selectedIndex].text : "",
        photos: Array.prototype.map.call(form.elements.photos.files || [], function (file, index) {
          return { name: file.name || "photo-" + (index + 1) + ".jpg", type: file.type, blob: file };
        }),
      };
      var button = form.querySelector("[data-submit]");
      button.disabled = true;
      var replaced = correcting;
      sending[item.id] = "sending";
      sending[item.id + ":busy"] = true;  // a flush running meanwhile leaves it to this one
      queue.put(item).then(function () {
        correcting = null;
        return replaced ? queue.remove(replaced) : undefined;
      }).then(function () {
        render();
        return settle(item).then(function (result) {
          delete sending[item.id + ":busy"];
          if (result.state === "refused") {
            // Sent while online and refused: the form still holds it, so it leaves the queue.
            return queue.remove(item.id).then(function () { showErrors(result.errors); });
          }
          resetForm();
          if (result.state !== "sent") keptLocally(TEXT.kept);
          window.scrollTo(0, 0);  // the list of what waits and what went is at the top
          return undefined;
        });
      }, function () {
        // No IndexedDB (a private window on some phones): send it straight away or not at all.
        delete sending[item.id + ":busy"];
        return send(item).then(function (result) {
          if (result.state === "sent") { showSent(result.answer); resetForm(); }
          else if (result.state === "refused") showErrors(result.errors);
          else keptLocally(TEXT.notKept);
        });
      }).then(function () {
        button.disabled = false;
        return render();
      });
    });
  }

  function resetForm() {
    // The worker is still where they were: the position stays for the next report.
    var lat = form.elements.latitude.value, lng = form.elements.longitude.value, address = form.elements.address.value;
    form.reset();
    form.elements.latitude.value = lat; form.elements.longitude.value = lng; form.elements.address.value = address;
    showPreviews();
  }

  // --- any other form marked data-offline-form: kept, then sent to its data-endpoint -------------
  // What such a form lacks that the server would refuse anyway: {field: [message]}.
  function formProblems(target) {
    var errors = {}, seen = {};
    Array.prototype.forEach.call(target.elements, function (input) {
      if (!input.name || input.disabled || seen[input.name]) return;
      if (input.type === "radio") {
        seen[input.name] = true;
        var group = target.querySelectorAll('input[type=radio][name="' + input.name + '"]');
        var required = Array.prototype.some.call(group, function (radio) { return radio.required; });
        var answered = Array.prototype.some.call(group, function (radio) { return radio.checked; });
        if (required && !answered) errors[input.name] = [TEXT.answer || TEXT.required];
      } else if (input.type === "file") {
        var when = (input.dataset.requiredIf || "").split("=");
        var chosen = when.length === 2 && target.querySelector('input[name="' + when[0] + '"]:checked');
        var needed = input.required || (chosen && chosen.value === when[1]);
        if (needed && !(input.files && input.files.length)) errors[input.name] = [TEXT.photo || TEXT.required];
      } else if (input.required && !String(input.value || "").trim()) {
        errors[input.name] = [TEXT.required];
      }
    });
    if (target.hasAttribute("data-require-position") && target.elements.latitude &&
        !(target.elements.latitude.value && target.elements.longitude.value)) {
      errors.location = [TEXT.noPosition];
    }
    return errors;
  }

  // What a field is called on its form (an item's question), to say why a kept one was refused.
  function fieldLabels(target) {
    var labels = {};
    target.querySelectorAll("[data-field]").forEach(function (node) {
      var holder = node.closest("fieldset");
      var legend = holder && holder.querySelector("legend");
      var text = (legend ? legend.textContent : node.dataset.label || "").replace(/\s+/g, " ").trim();
      if (text) labels[node.dataset.field] = text.length > 80 ? text.slice(0, 79) + "…" : text;
    });
    return labels;
  }

  document.querySelectorAll("form[data-offline-form][data-endpoint]").forEach(function (offline) {
    var alertBox = offline.querySelector("[data-form-alert]");
    var alertDefault = alertBox ? alertBox.textContent : "";
    // With the script the position comes from the phone: the fields to type it (for a page
    // without script) become hidden ones the phone fills, and the mark that made it optional goes.
    var typed = offline.querySelector("[data-position-typed]");
    if (typed) {
      typed.querySelectorAll("input").forEach(function (input) { input.type = "hidden"; });
      typed.hidden = true;
      offline.querySelectorAll("[data-without-script]").forEach(function (mark) { mark.remove(); });
      offline.querySelectorAll("[data-position-auto]").forEach(function (node) { node.hidden = false; });
    }
    var locateButton = offline.querySelector("[data-locate]");
    if (locateButton) {
      locateButton.addEventListener("click", function () {
        positionInto(offline.elements, offline.querySelector("[data-locate-status]"));
      });
    }
    function noteIn(message) {
      if (!alertBox) return;
      keptLocally(message, offline);
    }
    offline.addEventListener("submit", function (event) {
      event.preventDefault();
      if (alertBox) { clearErrors(offline); alertBox.textContent = alertDefault; alertBox.classList.remove("notice"); }
      var found = formProblems(offline);
      if (Object.keys(found).length) {  // not kept: it would only be refused later, away from here
        if (alertBox) showErrors(found, offline);
        else window.alert(Object.keys(found).map(function (field) { return found[field].join(" "); }).join("\n"));
        if (found.location && offline.hasAttribute("data-fill-position")) {
          positionInto(offline.elements, offline.querySelector("[data-locate-status]"));
        }
        return;
      }
      var fields = {}, files = [];
      new FormData(offline).forEach(function (value, name) {
        if (name === "csrfmiddlewaretoken") return;
        if (typeof value !== "string") {
          if (value.size) files.push({ field: name, name: value.name || name + ".jpg", type: value.type, blob: value });
          return;
        }
        fields[name] = name in fields ? [].concat(fields[name], value) : value;
      });
      var item = {
        id: newKey(), user: USER, created: new Date().toISOString(), endpoint: offline.dataset.endpoint,
        title: offline.dataset.title || document.title, label: offline.dataset.label || "", fields: fields, files: files,
        labels: fieldLabels(offline),
      };
      var button = offline.querySelector("[data-submit]");
      if (button) button.disabled = true;
      function answered(result) {
        if (result.state === "refused") { showErrors(result.errors, offline); return; }
        if (result.state === "sent") {  // settle() listed it as sent
          if (result.answer && result.answer.next) { window.location.assign(result.answer.next); return; }
        } else {
          noteIn(offline.dataset.kept || TEXT.kept);
        }
        offline.reset();
        window.scrollTo(0, 0);
      }
      sending[item.id] = "sending";
      sending[item.id + ":busy"] = true;
      queue.put(item).then(function () {
        render();
        return settle(item).then(function (result) {
          delete sending[item.id + ":busy"];
          // Sent while online and refused: the form still holds it, so it leaves the queue.
          if (result.state === "refused") return queue.remove(item.id).then(function () { answered(result); });
          answered(result);
          return undefined;
        });
      }, function () {
        delete sending[item.id + ":busy"];
        return send(item).then(function (result) {
          if (result.state === "sent") showSent(result.answer);
          if (result.state === "sent" || result.state === "refused") answered(result);
          else noteIn(TEXT.notKept);
        });
      }).then(function () {
        if (button) button.disabled = false;
        return render();
      });
    });
  });

  // --- photos: a preview of each chosen one --------------------------------------------------------
  function showPreviews() {
    var box = form && form.querySelector("[data-previews]");
    if (!box) return;
    box.querySelectorAll("img").forEach(function (img) { URL.revokeObjectURL(img.src); });
    box.textContent = "";
    Array.prototype.forEach.call(form.elements.photos.files || [], function (file) {
      var img = document.createElement("img");
      img.src = URL.createObjectURL(file);
      img.alt = file.name;
      box.appendChild(img);
    });
  }
  if (form && form.elements.photos) form.elements.photos.addEventListener("change", showPreviews);

  // --- where: the phone's position, or a tap on the map of the grid -------------------------------
  var map = document.querySelector("[data-grid-map]");
  var here = map && map.querySelector("[data-here]");
  var k = map ? parseFloat(map.dataset.k) : 1;

  function placeHere(lat, lng) {
    if (!here) return;
    here.setAttribute("cx", lng * k);
    here.setAttribute("cy", -lat);
    here.removeAttribute("hidden");
  }

  function positionInto(target, status, onDone) {
    if (!("geolocation" in navigator)) { if (status) status.textContent = TEXT.failed; return; }
    if (status) status.textContent = TEXT.locating;
    navigator.geolocation.getCurrentPosition(function (position) {
      var lat = position.coords.latitude, lng = position.coords.longitude;
      target.latitude.value = lat.toFixed(6);
      target.longitude.value = lng.toFixed(6);
      if (status) {
        status.textContent = TEXT.located + " " + lat.toFixed(5) + ", " + lng.toFixed(5) +
          (position.coords.accuracy ? " (±" + Math.round(position.coords.accuracy) + " m)" : "");
      }
      if (onDone) onDone(lat, lng);
    }, function (error) {
      if (status) status.textContent = error.code === 1 ? TEXT.denied : TEXT.failed;
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }

  if (form) {
    var status = form.querySelector("[data-locate-status]");
    var locate = form.querySelector("[data-locate]");
    if (locate) locate.addEventListener("click", function () { positionInto(form.elements, status, placeHere); });
    if (!form.elements.latitude.value) positionInto(form.elements, status, placeHere);
    else placeHere(parseFloat(form.elements.latitude.value), parseFloat(form.elements.longitude.value));
    if (map) {
      map.addEventListener("click", function (event) {
        var point = map.createSVGPoint();
        point.x = event.clientX; point.y = event.clientY;
        var at = point.matrixTransform(map.getScreenCTM().inverse());
        var lat = -at.y, lng = at.x / k;
        form.elements.latitude.value = lat.toFixed(6);
        form.elements.longitude.value = lng.toFixed(6);
        placeHere(lat, lng);
        status.textContent = TEXT.picked + " " + lat.toFixed(5) + ", " + lng.toFixed(5);
      });
    }
  }

  // A visit gets the phone's position when the phone will tell; without one it is saved all the same.
  var visit = document.querySelector("[data-fill-position]");
  if (visit) positionInto(visit.elements, visit.querySelector("[data-locate-status]"));

  // --- signing out: nothing of this account stays in the app's cache ----------------------------
  var signOut = document.querySelector("[data-sign-out]");
  if (signOut) {
    signOut.addEventListener("submit", function (event) {
      event.preventDefault();
      render().then(function (mine) {
        if (mine && !window.confirm(TEXT.signOutQueued)) return undefined;
        var clearing = window.caches ? caches.keys().then(function (keys) {
          return Promise.all(keys.filter(function (key) { return key.indexOf("civicgrid-worker-") === 0; })
            .map(function (key) { return caches.delete(key); }));
        }) : Promise.resolve();
        return clearing.catch(function () {}).then(function () { signOut.submit(); });
      });
    });
  }

  // On every page: show what waits, and send it if the network is there.
  render().then(function () { if (navigator.onLine) flush(); });
  // A phone may say it is online while nothing gets through: try again now and then.
  window.setInterval(function () { if (navigator.onLine) flush(); }, 60000);
})();
