// Uploads a model or resource version from the browser with the same protocol as NVIDIA's `ngc`
// (ngc-api.md §5.1): create the version, hash every file (SHA-256 in Web Workers), ask which
// files are stored already (dedupe), send the others in parts to the data plane's signed URLs
// (several files at once), complete each file, commit the version's file list and mark it
// complete. Resuming needs no state in the browser: the server answers which parts it holds
// (`partsReceived`), so picking the same files again sends only what is missing.
"use strict";

(() => {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const cfg = form.dataset;
  const $ = (id) => document.getElementById(id);
  const FILES_AT_ONCE = 4;
  const RETRIES = 5;
  const picked = new Map(); // path -> File

  // ---- picking files: buttons, a folder, drag and drop -------------------------------------

  function add(file, path) {
    if (path) picked.set(path, file);
  }

  /// A folder's files are named relative to the folder, as `ngc --source <folder>` names them.
  function relative(file) {
    const path = file.webkitRelativePath || file.name;
    const cut = path.indexOf("/");
    return file.webkitRelativePath && cut >= 0 ? path.slice(cut + 1) : path;
  }

  function showPicked() {
    const list = $("picked");
    list.replaceChildren();
    let bytes = 0;
    for (const [path, file] of [...picked].sort(([a], [b]) => a.localeCompare(b))) {
      bytes += file.size;
      const row = document.createElement("li");
      row.dataset.path = path;
      const name = document.createElement("span");
      name.className = "path";
      name.textContent = path;
      const bar = document.createElement("progress");
      bar.max = Math.max(file.size, 1);
      bar.value = 0;
      bar.setAttribute("aria-label", "Upload of " + path);
      const state = document.createElement("span");
      state.className = "state muted";
      state.textContent = size(file.size);
      row.append(name, bar, state);
      list.append(row);
    }
    $("picked-summary").textContent = picked.size
      ? picked.size + (picked.size === 1 ? " file, " : " files, ") + size(bytes)
      : "No files picked yet.";
  }

  function size(bytes) {
    const units = ["B", "KB", "MB", "GB", "TB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
      value /= 1000;
      unit++;
    }
    return unit === 0 ? bytes + " B" : value.toFixed(1) + " " + units[unit];
  }

  for (const id of ["files", "folder"]) {
    $(id).addEventListener("change", (event) => {
      for (const file of event.target.files) add(file, relative(file));
      showPicked();
    });
  }

  async function walk(entry, prefix) {
    if (entry.isFile) {
      const file = await new Promise((ok, fail) => entry.file(ok, fail));
      add(file, prefix + entry.name);
    } else if (entry.isDirectory) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
        if (!batch.length) break;
        for (const child of batch) await walk(child, prefix + entry.name + "/");
      }
    }
  }

  const drop = $("drop");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const entries = [...event.dataTransfer.items].map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry());
    for (const entry of entries.filter(Boolean)) {
      // A dropped folder's own name is not part of the paths, as with the folder button.
      if (entry.isDirectory) {
        const reader = entry.createReader();
        for (;;) {
          const batch = await new Promise((ok, fail) => reader.readEntries(ok, fail));
          if (!batch.length) break;
          for (const child of batch) await walk(child, "");
        }
      } else {
        await walk(entry, "");
      }
    }
    showPicked();
  });

  // ---- talking to the server ----------------------------------------------------------------

  class Refused extends Error {}

  async function call(method, path, body) {
    const response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": cfg.csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json = {};
    try {
      json = text.trim() ? JSON.parse(text) : {};
    } catch (_) {
      json = {};
    }
    return { status: response.status, json };
  }

  function why(reply) {
    const status = reply.json && reply.json.requestStatus;
    return (status && status.statusDescription) || "the server answered " + reply.status;
  }

  async function must(method, path, body) {
    const reply = await call(method, path, body);
    if (reply.status < 200 || reply.status > 299) throw new Refused(why(reply));
    return reply.json;
  }

  async function retried(work) {
    let delay = 500;
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (e) {
        if (e instanceof Refused || attempt >= RETRIES) throw e;
        await new Promise((ok) => setTimeout(ok, delay));
        delay *= 2;
      }
    }
  }

  // ---- hashing in workers ---------------------------------------------------------------------

  const workers = [];
  const waiting = new Map();
  let nextJob = 0;

  function hasher() {
    const count = Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 4));
    while (workers.length < count) {
      const url = cfg.worker + "?lib=" + encodeURIComponent(cfg.hashLib);
      const worker = new Worker(url);
      worker.busy = 0;
      worker.onmessage = (event) => {
        const job = waiting.get(event.data.id);
        if (!job) return;
        if (event.data.hashed !== undefined) return job.progress(event.data.hashed);
        waiting.delete(event.data.id);
        worker.busy--;
        if (event.data.error) job.fail(new Error(event.data.error));
        else job.done(event.data.sha256);
      };
      workers.push(worker);
    }
    return workers.reduce((a, b) => (b.busy < a.busy ? b : a));
  }

  function sha256(file, progress) {
    return new Promise((done, fail) => {
      const id = nextJob++;
      const worker = hasher();
      worker.busy++;
      waiting.set(id, { done, fail, progress });
      worker.postMessage({ id, file });
    });
  }

  // ---- the upload ---------------------------------------------------------------------------

  let sentBytes = 0;
  let totalBytes = 0;

  function overall() {
    const bar = $("overall");
    bar.max = Math.max(totalBytes, 1);
    bar.value = sentBytes;
    $("overall-text").textContent = size(sentBytes) + " of " + size(totalBytes);
  }

  function row(path) {
    return $("picked").querySelector('li[data-path="' + CSS.escape(path) + '"]');
  }

  function mark(path, value, state) {
    const line = row(path);
    if (!line) return;
    if (value !== null) line.querySelector("progress").value = value;
    if (state) line.querySelector(".state").textContent = state;
  }

  function putPart(url, blob, onProgress) {
    return new Promise((done, fail) => {
      const request = new XMLHttpRequest();
      request.open("PUT", url);
      request.setRequestHeader("Content-Type", "application/octet-stream");
      request.upload.onprogress = (event) => onProgress(event.loaded);
      request.onload = () =>
        request.status >= 200 && request.status < 300 ? done() : fail(new Error("part refused: " + request.status));
      request.onerror = () => fail(new Error("the connection dropped"));
      request.send(blob);
    });
  }

  const target = () => ({ name: cfg.name, version: $("version").value.trim(), artifactType: cfg.kind });

  /// One file: hash, dedupe, send its missing parts, complete. Answers its commit entry.
  async function sendFile(path, file) {
    mark(path, 0, "hashing…");
    const digest = await sha256(file, () => {});
    // Files this version received before (a resumed upload) count as stored too.
    const dedupe = await retried(() =>
      must("POST", cfg.entity + "/files?version=" + encodeURIComponent(target().version), { files: [{ sha256: digest }] }),
    );
    const known = (dedupe.files || []).some((f) => f.sha256 === digest && f.exists);
    if (known) {
      sentBytes += file.size;
      mark(path, Math.max(file.size, 1), "stored already");
      overall();
      return { commitType: "ADDITION", filePath: path, sha256: digest };
    }
    const start = { ...target(), filePath: path, size: file.size, sha256: digest };
    const upload = await retried(() => must("POST", cfg.space + "/files/multipart", start));
    const parts = Math.max(Math.ceil(file.size / Number(cfg.partSize)), 1);
    const received = new Set(upload.partsReceived || []);
    let fileSent = 0;
    const missing = [];
    for (let part = 1; part <= parts; part++) {
      const from = (part - 1) * Number(cfg.partSize);
      const length = Math.min(Number(cfg.partSize), file.size - from);
      if (received.has(part)) fileSent += length;
      else missing.push({ part, from, length });
    }
    sentBytes += fileSent;
    mark(path, fileSent, missing.length ? "sending…" : "stored already");
    overall();
    if (missing.length) {
      const urls = missing.length === parts ? upload.urls : (
        await retried(() => must("POST", cfg.space + "/files/multipart", {
          ...start, uploadID: upload.uploadID, partNumberList: missing.map((m) => m.part),
        }))
      ).urls;
      await Promise.all(
        missing.map(async ({ from, length }, i) => {
          let shown = 0;
          await retried(async () => {
            sentBytes -= shown;
            fileSent -= shown;
            shown = 0;
            await putPart(urls[i], file.slice(from, from + length), (loaded) => {
              sentBytes += loaded - shown;
              fileSent += loaded - shown;
              shown = loaded;
              mark(path, fileSent, null);
              overall();
            });
          });
        }),
      );
    }
    // Completing again is harmless: a 400 says it was completed before (as `ngc` reads it).
    const complete = { ...target(), filePath: path, uploadID: upload.uploadID, sha256: digest };
    const finished = await retried(() => call("PUT", cfg.space + "/files/multipart", complete));
    if (finished.status !== 200 && finished.status !== 400) throw new Refused(why(finished));
    if (finished.json && finished.json.requestStatus && finished.json.requestStatus.statusCode !== "SUCCESS") {
      throw new Refused(why(finished));
    }
    mark(path, Math.max(file.size, 1), "sent");
    return { commitType: "ADDITION", filePath: path, sha256: digest };
  }

  /// The version: new, or an unfinished one of the same number (resumed).
  async function openVersion(body) {
    const created = await call("POST", cfg.entity + "/versions", body);
    if (created.status === 409) {
      const existing = await must("GET", cfg.entity + "/versions/" + encodeURIComponent(body.versionId));
      const version = existing[cfg.versionKey] || {};
      if (version.status === "UPLOAD_COMPLETE") {
        throw new Refused("version " + body.versionId + " exists and is complete; choose another number");
      }
      return "resumed";
    }
    if (created.status < 200 || created.status > 299) throw new Refused(why(created));
    return "created";
  }

  function metrics() {
    const tables = [];
    for (const table of form.querySelectorAll("fieldset.metrics")) {
      const name = table.querySelector("input").value.trim();
      const lines = table.querySelector("textarea").value.split("\n").map((l) => l.trim()).filter(Boolean);
      if (!name && !lines.length) continue;
      const attributes = lines.map((line) => {
        const cut = line.indexOf(":");
        return cut < 0
          ? { key: line, value: "" }
          : { key: line.slice(0, cut).trim(), value: line.slice(cut + 1).trim() };
      });
      tables.push({ name, attributes });
    }
    return tables;
  }

  async function pool(items, work) {
    let next = 0;
    const results = [];
    const runners = Array.from({ length: Math.min(FILES_AT_ONCE, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]);
      }
    });
    await Promise.all(runners);
    return results;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("upload-error");
    error.hidden = true;
    const base = $("base") ? $("base").value : "";
    const removed = [...form.querySelectorAll("input[name=keep]")].filter((b) => !b.checked).map((b) => b.value);
    if (!picked.size && !base) {
      error.textContent = "Pick the files or the folder to upload.";
      error.hidden = false;
      return;
    }
    const button = $("upload-button");
    button.disabled = true;
    const started = performance.now();
    try {
      const body = { versionId: $("version").value.trim() };
      const description = $("version-description").value.trim();
      if (description) body.description = description;
      const tables = metrics();
      if (tables.length) body.customMetrics = tables;
      $("upload-status").textContent = "Preparing version " + body.versionId + "…";
      const how = await openVersion(body);
      const files = [...picked];
      totalBytes = files.reduce((sum, [, file]) => sum + file.size, 0);
      sentBytes = 0;
      overall();
      $("upload-status").textContent = (how === "resumed" ? "Resuming" : "Uploading") + " version " + body.versionId + "…";
      const commits = await pool(files, ([path, file]) => sendFile(path, file));
      if (base) {
        await retried(() => must("POST", cfg.space + "/files/commit", { ...target(), files: [], baseVersion: base }));
      }
      const changes = commits.concat(removed.filter((p) => !picked.has(p)).map((p) => ({ commitType: "DELETION", filePath: p })));
      for (let at = 0; at < changes.length; at += 4000) {
        await retried(() => must("POST", cfg.space + "/files/commit", { ...target(), files: changes.slice(at, at + 4000) }));
      }
      await retried(() =>
        must("PATCH", cfg.entity + "/versions/" + encodeURIComponent(body.versionId), { status: "UPLOAD_COMPLETE" }),
      );
      const seconds = (performance.now() - started) / 1000;
      $("upload-status").textContent =
        "Version " + body.versionId + " is uploaded: " + size(totalBytes) + " in " + seconds.toFixed(1) + " s.";
      $("upload-status").dataset.seconds = seconds.toFixed(3);
      const done = $("upload-done");
      done.href = cfg.page + "?section=files&version=" + encodeURIComponent(body.versionId);
      done.hidden = false;
    } catch (e) {
      error.textContent = "The upload stopped: " + e.message + ". Pick the same files and press Upload again to send only what is missing.";
      error.hidden = false;
      $("upload-status").textContent = "";
    } finally {
      button.disabled = false;
    }
  });

  for (const button of document.querySelectorAll("button[data-resume]")) {
    button.addEventListener("click", () => {
      $("version").value = button.dataset.resume;
      $("files").focus();
    });
  }
  showPicked();
})();
