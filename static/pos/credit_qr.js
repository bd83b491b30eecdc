// A repayment code on screen ("Trả nợ" by transfer, or the reminder's code): while it waits,
// ask the stall every 3 s whether it was paid (the bank's notification, through the provincial
// server, records it by itself) and, when it was, go to `done`, which says so. The vendor's own
// "Đã nhận tiền" and "Hủy" are plain forms. Paired stalls ask the province every 15 s.
(function () {
  "use strict";
  var island = document.getElementById("qr-watch");
  if (!island) return;
  var watch = JSON.parse(island.textContent);
  var CSRF = document.querySelector("meta[name=csrf-token]").content;
  var rounds = 0, leaving = false;
  function look() {
    if (leaving) return;
    rounds += 1;
    if (watch.paired && rounds % 5 === 0) {
      fetch("/sync/now", { method: "POST", credentials: "same-origin",
                           headers: { "X-CSRFToken": CSRF, "Accept": "application/json" } })
        .catch(function () {});
    }
    fetch(watch.poll, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (pending) {
        if (!pending || leaving) return;
        // Paid, cancelled elsewhere, or a transfer of the wrong amount to show: the page says it.
        if (pending.state !== "pending" || (!watch.mismatch && pending.mismatch)) {
          leaving = true;
          window.location = watch.done;
        }
      }, function () {});
  }
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function () { leaving = true; });
  });
  setInterval(look, 3000);
})();
