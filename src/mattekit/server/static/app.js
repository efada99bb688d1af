// mattekit's web page: pick a photo, choose what to keep and what goes behind it, see the
// result beside the original, and download it. Every result comes from the server's API
// (/v1/remove, /v1/replace, /v1/sticker); nothing is loaded from anywhere else.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const state = {
    photo: null,        // the chosen File or Blob
    photoName: "image",
    result: null,       // the last result (PNG Blob)
    request: null,      // the XMLHttpRequest in flight
    timer: 0,
    key: sessionStorage.getItem("mattekit-key") || "",
  };

  // -- showing what happens ---------------------------------------------------------------

  function status(text) { $("status").textContent = text; }

  function error(text) {
    $("error").textContent = text;
    if (text) status("");
  }

  function busy(on, value) {
    const bar = $("progress");
    bar.hidden = !on;
    if (value === undefined) bar.removeAttribute("value");
    else bar.value = value;
    document.body.dataset.busy = on ? "yes" : "no";
  }

  // -- the API ------------------------------------------------------------------------------

  function send(method, url, body, onDone, responseType) {
    if (state.request) state.request.abort(); // a newer request replaces an older one
    const xhr = new XMLHttpRequest();
    state.request = xhr;
    xhr.open(method, url);
    xhr.responseType = responseType || "blob";
    if (state.key) xhr.setRequestHeader("X-API-Key", state.key);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) busy(true, event.loaded / event.total);
    };
    xhr.upload.onload = () => { busy(true); status("Working…"); };
    xhr.onload = async () => {
      state.request = null;
      busy(false);
      if (xhr.status === 200) { onDone(xhr.response, xhr); return; }
      if (xhr.status === 401) { $("key-set").hidden = false; $("key").focus(); }
      error(await problem(xhr));
    };
    xhr.onerror = () => { state.request = null; busy(false); error("The server cannot be reached."); };
    xhr.onabort = () => { busy(false); };
    busy(true, 0);
    error("");
    status("Uploading…");
    xhr.send(body);
  }

  async function problem(xhr) {
    let detail = `The server answered ${xhr.status}.`;
    try {
      const text = xhr.response instanceof Blob ? await xhr.response.text() : JSON.stringify(xhr.response);
      const body = JSON.parse(text);
      if (body && body.detail) detail = body.detail;
    } catch (ignored) { /* not JSON: keep the status */ }
    const wait = xhr.getResponseHeader("Retry-After");
    return wait ? `${detail} (try again in ${wait} s)` : detail;
  }

  // -- the settings ---------------------------------------------------------------------------

  function chosen(name) {
    const input = document.querySelector(`input[name="${name}"]:checked`);
    return input ? input.value : "";
  }

  function buildForm(format) {
    const form = new FormData();
    form.append("file", state.photo, state.photoName);
    const subject = chosen("subject");
    if (subject === "classes") {
      const keep = [], drop = [];
      for (const select of $("class-list").querySelectorAll("select")) {
        if (select.value === "keep") keep.push(select.name);
        if (select.value === "drop") drop.push(select.name);
      }
      if (!keep.length && !drop.length) throw new Error("Choose at least one class to keep or drop.");
      form.append("subject", "auto"); // with keep and drop: VOC classes (a kept "person" too)
      if (keep.length) form.append("keep", keep.join(","));
      if (drop.length) form.append("drop", drop.join(","));
    } else {
      form.append("subject", subject);
    }
    form.append("quality", $("quality").value);
    const background = chosen("background");
    let endpoint = "/v1/remove";
    if (background === "transparent" && $("sticker").checked) {
      endpoint = "/v1/sticker";
      form.append("outline", $("outline").value);
      form.append("outline_color", $("outline-color").value);
    } else if (background === "color") {
      endpoint = "/v1/replace";
      form.append("bg", $("bg-color").value);
    } else if (background === "blur") {
      endpoint = "/v1/replace";
      form.append("bg", `blur:${$("blur").value}`);
    } else if (background === "image") {
      const picture = $("bg-file").files[0];
      if (!picture) throw new Error("Choose a background picture.");
      endpoint = "/v1/replace";
      form.append("bg", picture, picture.name);
    }
    form.append("format", format);
    return { endpoint, form };
  }

  function syncControls() {
    $("class-picker").hidden = chosen("subject") !== "classes";
    const transparent = chosen("background") === "transparent";
    $("sticker").disabled = !transparent;
    $("outline-value").textContent = `${$("outline").value} px`;
  }

  // -- processing -------------------------------------------------------------------------------

  function process() {
    clearTimeout(state.timer);
    if (!state.photo) return;
    let built;
    try { built = buildForm("png"); } catch (problemText) { error(problemText.message); return; }
    const started = performance.now();
    send("POST", built.endpoint, built.form, async (blob, xhr) => {
      state.result = blob;
      await show(blob);
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const empty = xhr.getResponseHeader("X-Mattekit-Empty");
      status(empty ? `Done in ${seconds} s, but ${empty} was found.` : `Done in ${seconds} s.`);
      $("download-png").disabled = false;
      $("download-webp").disabled = false;
      document.body.dataset.result = "ready";
    });
  }

  function later() {
    clearTimeout(state.timer);
    document.body.dataset.result = "pending";
    state.timer = setTimeout(process, 250);
  }

  async function show(blob) {
    const bitmap = await createImageBitmap(blob, { premultiplyAlpha: "none", colorSpaceConversion: "none" });
    const canvas = $("after");
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    const context = canvas.getContext("2d");
    context.clearRect(0, 0, canvas.width, canvas.height);
    context.drawImage(bitmap, 0, 0);
    bitmap.close();
  }

  function usePhoto(file, name) {
    if (!file || !file.type.startsWith("image/")) { error("That is not an image."); return; }
    state.photo = file;
    state.photoName = name || file.name || "pasted.png";
    const before = $("before");
    if (before.src) URL.revokeObjectURL(before.src);
    before.src = URL.createObjectURL(file);
    $("compare").hidden = false;
    $("drop").classList.add("compact");
    $("download-png").disabled = true;
    $("download-webp").disabled = true;
    document.body.dataset.result = "pending";
    process();
  }

  // -- downloads ------------------------------------------------------------------------------

  function save(blob, extension) {
    const stem = state.photoName.replace(/\.[^.]*$/, "") || "image";
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `${stem}.mattekit.${extension}`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  function downloadWebp() {
    let built;
    try { built = buildForm("webp"); } catch (problemText) { error(problemText.message); return; }
    send("POST", built.endpoint, built.form, (blob) => { status("WebP ready."); save(blob, "webp"); });
  }

  // -- classes ----------------------------------------------------------------------------------

  function fillClasses(names) {
    const list = $("class-list");
    list.textContent = "";
    for (const name of names) {
      const id = `class-${name}`;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = name;
      const select = document.createElement("select");
      select.id = id;
      select.name = name;
      for (const [value, text] of [["", "—"], ["keep", "keep"], ["drop", "drop"]]) {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = text;
        select.appendChild(option);
      }
      list.append(label, select);
    }
  }

  function loadClasses() {
    const xhr = new XMLHttpRequest();
    xhr.open("GET", "/v1/models");
    xhr.responseType = "json";
    if (state.key) xhr.setRequestHeader("X-API-Key", state.key);
    xhr.onload = () => {
      if (xhr.status === 200 && xhr.response) fillClasses(xhr.response.classes);
      else if (xhr.status === 401) $("key-set").hidden = false;
    };
    xhr.send();
  }

  // -- wiring ---------------------------------------------------------------------------------

  function wire() {
    const drop = $("drop");
    $("pick").addEventListener("click", () => $("file").click());
    drop.addEventListener("click", () => $("file").click());
    drop.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); $("file").click(); }
    });
    $("file").addEventListener("change", () => usePhoto($("file").files[0]));
    for (const target of [drop, $("compare")]) {
      target.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
      target.addEventListener("dragleave", () => drop.classList.remove("over"));
      target.addEventListener("drop", (event) => {
        event.preventDefault();
        drop.classList.remove("over");
        const file = event.dataTransfer.files[0];
        if (file) usePhoto(file);
      });
    }
    document.addEventListener("paste", (event) => {
      for (const item of event.clipboardData.items) {
        if (item.kind === "file" && item.type.startsWith("image/")) {
          usePhoto(item.getAsFile(), "pasted.png");
          return;
        }
      }
    });
    $("controls").addEventListener("change", (event) => {
      if (event.target.id === "file" || event.target.id === "key") return;
      if (event.target.id === "bg-color" || event.target.id === "bg-file" || event.target.id === "blur") {
        const which = { "bg-color": "color", "bg-file": "image", blur: "blur" }[event.target.id];
        document.querySelector(`input[name="background"][value="${which}"]`).checked = true;
      }
      syncControls();
      later();
    });
    $("outline").addEventListener("input", syncControls);
    $("split").addEventListener("input", () => {
      $("after-wrap").style.clipPath = `inset(0 0 0 ${$("split").value}%)`;
    });
    $("download-png").addEventListener("click", () => { if (state.result) save(state.result, "png"); });
    $("download-webp").addEventListener("click", downloadWebp);
    $("key-save").addEventListener("click", () => {
      state.key = $("key").value.trim();
      sessionStorage.setItem("mattekit-key", state.key);
      $("key-set").hidden = true;
      error("");
      loadClasses();
      process();
    });
    syncControls();
    loadClasses();
  }

  wire();
})();
