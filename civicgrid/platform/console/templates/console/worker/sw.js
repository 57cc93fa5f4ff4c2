{% autoescape off %}// 平安通's service worker, served from /m/ so that it looks after /m/ only. Rendered by
// worker_views.service_worker: the list of files changes with every release of them.
"use strict";
const VERSION = "{{ version }}";
const PREFIX = "civicgrid-worker-";
const CACHE = PREFIX + VERSION;
const ASSETS = {{ assets }};  // the app's own script, style and icons: from the cache first
const PAGES = {{ pages }};  // the pages a report needs: from the network first, else as kept
const HOME = {{ home }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => Promise.all([
    cache.addAll(ASSETS),
    ...PAGES.map((url) => keepPage(cache, url)),
  ])).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((key) => key.startsWith(PREFIX) && key !== CACHE)
      .map((key) => caches.delete(key))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;  // reports go to the network; the page keeps them when it fails
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (ASSETS.includes(url.pathname)) {
    event.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(request)));
    return;
  }
  if (request.mode === "navigate" && url.pathname.startsWith(HOME)) {
    event.respondWith(fetch(request).then((response) => {
      if (PAGES.includes(url.pathname) && !url.search && response.ok && !response.redirected) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
      }
      return response;
    }).catch(() => caches.match(url.pathname)
      .then((hit) => hit || caches.match(HOME))
      .then((hit) => hit || Response.error())));
  }
});

// Only a page as the signed-in worker sees it is kept: a sign-in page is not an app shell.
function keepPage(cache, url) {
  return fetch(url, { credentials: "same-origin", redirect: "manual" }).then((response) => {
    if (response.ok && response.type === "basic") return cache.put(url, response);
    return undefined;
  }).catch(() => undefined);
}
{% endautoescape %}
