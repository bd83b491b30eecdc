// The parked strip above the cart: carts set aside ("Giữ đơn") and QR codes set aside ("Giữ QR").
// Both live in the stall's SQLite (/api/parked-carts, /api/qr-payments), so they survive a reload
// and a restart. Tapping a cart brings it back (the cart on screen, if any, is parked in its
// place); tapping a code shows it again. While codes wait, the strip asks every few seconds
// whether the bank recorded one, and says so without taking the screen from the next customer.
(function () {
  "use strict";
  var Sell = window.Sell;
  if (!Sell) return;
  var $ = function (id) { return document.getElementById(id); };
  var TEXT = Sell.text;
  var carts = [], codes = [], poll = null, rounds = 0, busy = false, label = "";

  function chip(className, text, onTap) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "chip parked-chip " + className;
    button.textContent = text;
    button.addEventListener("click", onTap);
    return button;
  }
  function render() {
    var strip = $("parked");
    strip.textContent = "";
    carts.forEach(function (cart) {
      var button = chip("parked-cart", cart.label + " · " + Sell.vnd(cart.total), function () { takeBack(cart); });
      button.dataset.id = cart.id;
      strip.appendChild(button);
    });
    codes.forEach(function (code) {
      var button = chip("parked-qr", "QR " + code.reference + " · " + Sell.vnd(code.amount), function () { resume(code); });
      button.dataset.id = code.id;
      strip.appendChild(button);
    });
    strip.hidden = !carts.length && !codes.length;
  }
  function refresh() {
    return Promise.all([Sell.api("GET", "/api/parked-carts"), Sell.api("GET", "/api/qr-payments")])
      .then(function (answers) {
        if (answers[0].status === 200) carts = answers[0].data.parked_carts;
        if (answers[1].status === 200) {
          var waiting = answers[1].data.qr_payments.filter(function (p) { return p.parked; });
          var still = {};
          waiting.forEach(function (p) { still[p.id] = true; });
          codes.filter(function (p) { return !still[p.id]; }).forEach(settled);
          codes = waiting;
        }
        render();
        watch();
      }, function () {});
  }
  // A parked code left the list: the bank recorded it (say so), or it was taken back.
  function settled(code) {
    Sell.api("GET", "/api/qr-payments/" + code.id).then(function (result) {
      if (result.status !== 200 || result.data.state !== "recorded" || result.data.sale_id === null) return;
      if (Sell.qrOnScreen() === code.id) return;   // the QR sheet itself shows the sale
      Sell.api("GET", "/api/sales/" + result.data.sale_id).then(function (sale) {
        if (sale.status !== 200) return;
        $("parked-notice-text").textContent = TEXT.parked_paid.replace("{amount}", Sell.vnd(code.amount))
          .replace("{reference}", code.reference).replace("{number}", sale.data.number);
        $("parked-notice-view").href = "/sales/" + sale.data.id;
        $("parked-notice").hidden = false;
      });
    });
  }
  function watch() {
    if (codes.length && !poll) {
      rounds = 0;
      poll = setInterval(function () {
        rounds += 1;
        if (rounds % 5 === 0 && !$("sync-now").hidden) {   // ask the province every 15 s
          fetch("/sync/now", { method: "POST", credentials: "same-origin",
                               headers: { "X-CSRFToken": document.querySelector("meta[name=csrf-token]").content } });
        }
        refresh();
      }, 3000);
    } else if (!codes.length && poll) {
      clearInterval(poll);
      poll = null;
    }
  }
  function problem(result) {
    var error = result && result.data && result.data.error;
    $("park-error").textContent = error ? error.message : TEXT.failed;
    $("park-error").hidden = false;
  }
  function park(body) {
    return Sell.api("POST", "/api/parked-carts", body).then(function (result) {
      if (result.status !== 201) throw result;
      return result.data;
    });
  }
  function takeBack(cart) {
    if (busy) return;
    busy = true;
    // The cart on screen waits in its place, so no customer's goods are lost.
    var first = Sell.isEmpty() ? Promise.resolve(null) : park(Sell.body());
    first.then(function () {
      return Sell.api("POST", "/api/parked-carts/" + cart.id + "/take");
    }).then(function (result) {
      busy = false;
      if (result.status === 200) Sell.load(result.data);
      refresh();
    }, function (result) {
      busy = false;
      $("parked-notice-text").textContent = result && result.data && result.data.error ?
        result.data.error.message : TEXT.failed;
      $("parked-notice-view").hidden = true;
      $("parked-notice").hidden = false;
      refresh();
    });
  }
  function resume(code) {
    Sell.api("POST", "/api/qr-payments/" + code.id + "/resume").then(function (result) {
      if (result.status === 200) {
        codes = codes.filter(function (p) { return p.id !== code.id; });
        render();
        Sell.showQr(result.data);
      } else {
        refresh();
      }
    }, function () {});
  }

  // "Giữ đơn": a short label from a chip or written (empty: the next free #n).
  function showLabel() {
    document.querySelectorAll("#park-labels .chip").forEach(function (c) {
      c.classList.toggle("on", c.dataset.label === label);
    });
  }
  $("park-open").addEventListener("click", function () {
    label = "";
    $("park-label").value = "";
    $("park-error").hidden = true;
    showLabel();
    $("park-dialog").showModal();
  });
  $("park-labels").addEventListener("click", function (event) {
    var c = event.target.closest(".chip");
    if (!c) return;
    label = c.dataset.label;
    $("park-label").value = "";
    showLabel();
  });
  $("park-label").addEventListener("input", function () { label = $("park-label").value.trim(); showLabel(); });
  $("park-cancel").addEventListener("click", function () { $("park-dialog").close(); });
  $("park-ok").addEventListener("click", function () {
    if (busy || Sell.isEmpty()) return;
    busy = true;
    var body = Sell.body();
    if (label) body.label = label;
    park(body).then(function () {
      busy = false;
      Sell.clear();
      $("park-dialog").close();
      refresh();
    }, function (result) { busy = false; problem(result); });
  });
  $("parked-notice-close").addEventListener("click", function () {
    $("parked-notice").hidden = true;
    $("parked-notice-view").hidden = false;
  });
  document.addEventListener("parked-changed", refresh);
  refresh();
})();
