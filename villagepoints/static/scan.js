// Picking a household by scanning its card (户码) with the device's camera.
// Uses the browser's own BarcodeDetector where it exists (Chrome on Android, among others);
// elsewhere the 扫户码 button stays hidden and the household is typed as before. A handheld
// scanner that types the card's address into the box works everywhere, without this script.
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
        .then(function (row) {
          if (!row.found) {
            if (label) label.textContent = row.message;
            return;
          }
          input.value = row.code;
          if (label) label.textContent = row.head_name + "（" + row.code + (row.group ? " · " + row.group : "") + "）";
          // The store counter looks the household up at once, as if 查找 were pressed.
          if (button.hasAttribute("data-scan-submit") && input.form) input.form.submit();
        })
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
          if (label) label.textContent = "无法打开相机，请输入姓名或户编号";
        });
    });
    stopButton.addEventListener("click", stop);
    button.hidden = false;
  }

  if (supported()) {
    Array.prototype.forEach.call(document.querySelectorAll("[data-scan-target]"), setup);
  }
  markReady("scan");
})();
