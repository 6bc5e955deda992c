// Picking a household by scanning its card (户码) with the device's camera.
// Uses the browser's own BarcodeDetector where it exists (Chrome on Android, among others).
// Elsewhere (iPhones, most cheap phones) the page's 拍户码 photo input stays: a photo of the
// card is posted to the server, which reads the QR, and the household is picked the same way.
// Without this script that input posts through its own form. A handheld scanner that types
// the card's address into the box works everywhere, without this script.
// No framework, no CDN, no inline script: the page only carries data-* attributes.
(function () {
  "use strict";

  function markReady(name) {
    var root = document.documentElement;
    root.dataset.ready = ((root.dataset.ready || "") + " " + name).trim();
  }

  function supported() {
    return "BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  }

  // Choose the household the server named, as a typed code would; or show why not.
  function pick(row, input, label, submit) {
    if (!row.found) {
      if (label) label.textContent = row.message;
      return;
    }
    input.value = row.code;
    if (label) label.textContent = row.head_name + "（" + row.code + (row.group ? " · " + row.group : "") + "）";
    // The store counter looks the household up at once, as if 查找 were pressed.
    if (submit && input.form) input.form.submit();
  }

  function setupPhoto(box) {
    var form = document.getElementById(box.getAttribute("data-photo-form"));
    var input = document.getElementById(box.getAttribute("data-photo-target"));
    var label = document.getElementById(box.getAttribute("data-photo-label"));
    var file = box.querySelector("input[type=file]");
    var send = box.querySelector("[data-photo-send]");
    if (!form || !input || !file) return;
    // The photo goes as soon as it is taken; the button is only for pages without the script.
    if (send) send.hidden = true;
    file.addEventListener("change", function () {
      if (!file.files.length) return;
      // The file input belongs to the form (form="…"), so the photo is in it with the CSRF token.
      var body = new FormData(form);
      if (label) label.textContent = "正在识别户码……";
      fetch(form.action, {
        method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" }
      })
        .then(function (r) {
          // A page instead of an answer: the login ran out, or the page is stale (its CSRF token).
          return r.json().catch(function () {
            return { found: false, message: "识别失败，请刷新页面后重试，或输入姓名、户编号" };
          });
        })
        .then(function (row) { pick(row, input, label, box.hasAttribute("data-photo-submit")); })
        .catch(function () { if (label) label.textContent = "网络不通，请输入姓名或户编号"; })
        .then(function () { file.value = ""; });
    });
  }

  function photoBoxFor(button) {
    var target = button.getAttribute("data-scan-target");
    return document.querySelector("[data-scan-photo][data-photo-target='" + target + "']");
  }

  function setup(button) {
    var input = document.getElementById(button.getAttribute("data-scan-target"));
    var label = document.getElementById(button.getAttribute("data-scan-label"));
    var resolveUrl = button.getAttribute("data-scan-resolve");
    var panel = document.createElement("div");
    var video = document.createElement("video");
    var note = document.createElement("p");
    var stopButton = document.createElement("button");
    var stream = null;
    var running = false;
    var detector;
    var photo = photoBoxFor(button);

    panel.className = "scan-panel";
    panel.hidden = true;
    video.setAttribute("playsinline", "");
    video.muted = true;
    note.className = "muted";
    note.setAttribute("aria-live", "polite");
    stopButton.type = "button";
    stopButton.className = "secondary";
    stopButton.textContent = "关闭相机";
    panel.appendChild(video);
    panel.appendChild(note);
    panel.appendChild(stopButton);
    button.parentNode.insertBefore(panel, button.nextSibling);

    function stop() {
      running = false;
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      panel.hidden = true;
    }

    function found(text) {
      stop();
      note.textContent = "正在查找……";
      fetch(resolveUrl + "?scanned=" + encodeURIComponent(text), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (row) { pick(row, input, label, button.hasAttribute("data-scan-submit")); })
        .catch(function () { if (label) label.textContent = "网络不通，请输入姓名或户编号"; });
    }

    function tick() {
      if (!running) return;
      detector.detect(video).then(function (codes) {
        if (codes.length && codes[0].rawValue) {
          found(codes[0].rawValue);
        } else {
          setTimeout(tick, 250);
        }
      }).catch(function () { setTimeout(tick, 500); });
    }

    button.addEventListener("click", function () {
      detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      note.textContent = "请把户码卡上的二维码对准镜头";
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (s) {
          stream = s;
          video.srcObject = s;
          panel.hidden = false;
          running = true;
          return video.play();
        })
        .then(tick)
        .catch(function () {
          stop();
          // Camera refused or busy: a photo still works.
          if (photo) photo.hidden = false;
          if (label) label.textContent = "无法打开相机，请拍户码卡的照片，或输入姓名、户编号";
        });
    });
    stopButton.addEventListener("click", stop);
    button.hidden = false;
    // The live camera scans by itself; the photo input is for browsers that cannot.
    if (photo) photo.hidden = true;
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-scan-photo]"), setupPhoto);
  if (supported()) {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-scan-target]"), setup);
  }
  markReady("scan");
})();
