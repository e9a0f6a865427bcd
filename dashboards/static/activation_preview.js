// Live preview: post the form to /activations/preview as the marketer types (debounced) and
// show the message rendered for a sample member of the chosen segment.
(function () {
  "use strict";
  var form = document.getElementById("activation-form");
  if (!form) { return; }
  var frame = document.getElementById("preview-frame");
  var meta = document.getElementById("preview-meta");
  var problem = document.getElementById("preview-error");
  var text = document.getElementById("preview-text");
  var channel = document.getElementById("channel");
  var timer = null;
  var sequence = 0;

  function showChannel() {
    form.querySelectorAll("[data-channel]").forEach(function (el) {
      el.hidden = el.dataset.channel !== channel.value;
    });
  }

  function show(result) {
    if (result.error) {
      problem.textContent = result.error;
      problem.hidden = false;
      return;
    }
    problem.hidden = true;
    meta.textContent = "For member " + result.profile_id + " · to " + result.to +
      (result.subject ? " · subject: " + result.subject : "");
    frame.dataset.subject = result.subject || "";
    if (result.html) {
      frame.hidden = false; text.hidden = true;
      frame.srcdoc = result.html;
    } else {
      frame.hidden = true; text.hidden = false;
      text.textContent = result.text || "";
    }
    form.dataset.previewed = String(sequence);
  }

  function refresh() {
    var mine = ++sequence;
    fetch("/activations/preview", { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (result) { if (mine === sequence) { show(result); } })
      .catch(function () { problem.textContent = "The preview could not be loaded."; problem.hidden = false; });
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  }

  channel.addEventListener("change", showChannel);
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  showChannel();
  if (document.getElementById("segment").value) { schedule(); }
})();
