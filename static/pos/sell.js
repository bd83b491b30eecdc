// The sell screen: tiles → cart → keypad → cash → one tap records the sale through the JSON API.
// The cart is kept in localStorage so that a reload or a browser restart does not lose it.
(function () {
  "use strict";
  var TEXT = JSON.parse(document.getElementById("sell-text").textContent);
  var CSRF = document.querySelector("meta[name=csrf-token]").content;
  var STORE = "market-pos-cart";
  var $ = function (id) { return document.getElementById(id); };

  var cart = load();
  var discount = loadDiscount();   // {amount, reason} off the whole sale, or null
  var editing = null;      // {index, product, list} of the line in the quantity sheet
  var qtyText = "", priceText = "", sheetMode = "qty";
  var tendered = 0;
  var recording = false;

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE)) || []; } catch (e) { return []; }
  }
  function loadDiscount() {
    try { return JSON.parse(localStorage.getItem(STORE + "-discount")) || null; } catch (e) { return null; }
  }
  function save() {
    try {
      localStorage.setItem(STORE, JSON.stringify(cart));
      localStorage.setItem(STORE + "-discount", JSON.stringify(discount));
    } catch (e) {}
  }

  function group(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, "."); }
  function vnd(n) { return (n < 0 ? "-" : "") + group(Math.abs(n)) + " ₫"; }
  // Quantities are integer thousandths, like the server: "0,75" → 750. Amount rounds half up.
  function parseMilli(text) {
    var m = /^(\d{1,7})(?:[.,](\d{0,3}))?$/.exec(text);
    if (!m) return 0;
    return parseInt(m[1], 10) * 1000 + parseInt(((m[2] || "") + "000").slice(0, 3), 10);
  }
  function showMilli(milli) {
    var whole = Math.floor(milli / 1000), frac = milli % 1000;
    if (!frac) return String(whole);
    return (whole + TEXT.decimal + String(frac + 1000).slice(1)).replace(/0+$/, "");
  }
  function signedMilli(milli) { return (milli < 0 ? "−" : "") + showMilli(Math.abs(milli)); }
  // Stock (issue 19): a tracked product's tile carries what is left (data-stock, thousandths).
  // Selling more than that never blocks: the cart line says so, and the count puts it right.
  function tileOf(id) { return document.querySelector('.tile[data-id="' + id + '"]'); }
  function stockOf(id) {
    var tile = tileOf(id);
    return tile && tile.dataset.stock !== undefined ? parseInt(tile.dataset.stock, 10) : null;
  }
  function refreshStock() {
    api("GET", "/api/stock").then(function (result) {
      if (result.status !== 200 || !result.data) return;
      result.data.forEach(function (item) {
        var tile = tileOf(item.product_id);
        if (!tile || !item.tracked) return;
        var negative = item.on_hand.charAt(0) === "-";
        var milli = parseMilli(negative ? item.on_hand.slice(1) : item.on_hand) * (negative ? -1 : 1);
        tile.dataset.stock = milli;
        var label = tile.querySelector(".tile-stock");
        if (!label) { label = document.createElement("span"); tile.appendChild(label); }
        label.className = "tile-stock" + (item.short ? " short" : item.low ? " low" : "");
        label.textContent = fill(TEXT.left, { qty: signedMilli(milli) });
      });
    });
  }
  function apiMilli(milli) { return showMilli(milli).replace(TEXT.decimal, "."); }
  function amount(line) { return Math.floor((line.milli * line.price + 500) / 1000); }
  function goods() { return cart.reduce(function (sum, line) { return sum + amount(line); }, 0); }
  function total() { return goods() - (discount ? discount.amount : 0); }
  // A line as the API takes it: a haggled line carries the price it sold at (pos/haggling.py).
  function lineBody(l) {
    if (l.id === null) return { name: l.name, unit: l.unit, unit_price: l.price, quantity: apiMilli(l.milli) };
    var body = { product_id: l.id, quantity: apiMilli(l.milli) };
    if (l.list !== undefined && l.list !== null) body.unit_price = l.price;
    return body;
  }
  function saleBody(payments) {
    var body = { lines: cart.map(lineBody), payments: payments };
    if (discount) body.discount = discount;
    return withBuyer(body);
  }

  function render() {
    var list = $("cart-lines");
    list.textContent = "";
    cart.forEach(function (line, index) {
      var li = document.createElement("li");
      li.className = "cart-line";
      li.dataset.index = index;
      var name = document.createElement("span"); name.className = "n"; name.textContent = line.name;
      var sum = document.createElement("span"); sum.className = "a"; sum.textContent = vnd(amount(line));
      var qty = document.createElement("span"); qty.className = "q";
      qty.textContent = showMilli(line.milli) + " " + line.unit + " × " + group(line.price);
      if (line.list !== undefined && line.list !== null) {
        var listed = document.createElement("s"); listed.className = "listed";
        listed.textContent = TEXT.listed + " " + group(line.list);
        qty.append(" ", listed);
      }
      li.append(name, sum, qty);
      var left = stockOf(line.id);
      if (left !== null && line.milli > left) {
        var note = document.createElement("span"); note.className = "short-note";
        note.textContent = fill(TEXT.over_stock, { qty: signedMilli(left), unit: line.unit });
        li.appendChild(note);
      }
      list.appendChild(li);
    });
    if (discount && discount.amount >= goods()) discount = null;
    $("cart-discount").hidden = !discount;
    if (discount) {
      $("cart-discount-text").textContent = TEXT.discount + " (" + discount.reason + ")";
      $("cart-discount-amount").textContent = "−" + vnd(discount.amount);
    }
    $("cart-empty").hidden = cart.length > 0;
    $("cart-tools").hidden = cart.length === 0;
    $("total").textContent = vnd(total());
    $("pay").disabled = cart.length === 0 || total() <= 0;
    $("pay-qr").disabled = $("pay").disabled;
    save();
  }

  // Tiles, search and categories
  var category = "";
  function fold(text) {
    return text.replace(/đ/g, "d").replace(/Đ/g, "D").normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/\s+/g, " ").trim();
  }
  // A tile's search key: its name and its group's category, without diacritics (built once).
  function searchKey(tile) {
    if (tile.searchKey === undefined) {
      tile.searchKey = fold(tile.querySelector(".tile-name").textContent + " " +
                            tile.parentNode.dataset.category);
    }
    return tile.searchKey;
  }
  function filter() {
    var words = fold($("search").value).split(" ").filter(Boolean);
    document.querySelectorAll(".tile").forEach(function (tile) {
      var key = searchKey(tile);
      var match = words.every(function (w) { return key.indexOf(w) !== -1; });
      tile.hidden = !match || (category && tile.parentNode.dataset.category !== category);
    });
  }
  $("search").addEventListener("input", filter);
  $("chips").addEventListener("click", function (event) {
    var chip = event.target.closest(".chip");
    if (!chip) return;
    category = chip.dataset.category;
    document.querySelectorAll("#chips .chip").forEach(function (c) { c.classList.toggle("on", c === chip); });
    filter();
  });
  $("tiles").addEventListener("click", function (event) {
    var tile = event.target.closest(".tile");
    if (!tile) return;
    var product = { id: parseInt(tile.dataset.id, 10),
                    name: tile.querySelector(".tile-name").textContent,
                    price: parseInt(tile.dataset.price, 10), unit: tile.dataset.unit };
    if (tile.dataset.weighed === "1") { openQty(null, product); return; }
    var existing = cart.findIndex(function (l) { return l.id === product.id; });
    if (existing >= 0) cart[existing].milli += 1000;
    else cart.push({ id: product.id, name: product.name, price: product.price, unit: product.unit, milli: 1000 });
    render();
  });

  // Barcodes: a keyboard-wedge scanner types the code's digits fast, then Enter. Typed into the
  // search box or anywhere outside a field, digits + Enter look the product up by its barcode
  // (GET /api/products?barcode=) and add it as a tap on its tile would.
  var SCAN = /^[0-9]{4,32}$/, SCAN_GAP_MS = 100;
  var scanBuffer = "", scanLast = 0;
  function showScan(text, code) {
    $("scan-text").textContent = text;
    $("scan-add").hidden = !code;
    if (code) $("scan-add").href = $("scan-add").href.split("?")[0] + "?barcode=" + encodeURIComponent(code);
    $("scan-notice").hidden = false;
  }
  function scan(code) {
    $("scan-notice").hidden = true;
    api("GET", "/api/products?barcode=" + encodeURIComponent(code)).then(function (result) {
      var product = result.status === 200 ? result.data.products[0] : null;
      var tile = product && document.querySelector('.tile[data-id="' + product.id + '"]');
      if (tile && product.active) {
        $("search").value = "";
        filter();
        tile.click();
      } else if (product) {
        showScan(fill(TEXT.hidden_code, { code: code }), null);
      } else {
        showScan(fill(TEXT.unknown_code, { code: code }), result.status === 200 ? code : null);
      }
    }, function () { showScan(TEXT.scan_failed, null); });
  }
  $("scan-text").addEventListener("click", function () { $("scan-notice").hidden = true; });
  document.addEventListener("keydown", function (event) {
    if (document.querySelector("dialog[open]")) return;
    var inSearch = event.target === $("search");
    if (!inSearch && event.target.closest && event.target.closest("input, textarea, select")) return;
    var now = Date.now();
    if (event.key === "Enter") {
      var code = inSearch ? $("search").value.trim() : scanBuffer;
      scanBuffer = "";
      if (SCAN.test(code)) { event.preventDefault(); scan(code); }
      return;
    }
    if (inSearch) return;
    if (event.key.length === 1 && /[0-9]/.test(event.key)) {
      scanBuffer = (now - scanLast > SCAN_GAP_MS ? "" : scanBuffer) + event.key;
      scanLast = now;
    } else {
      scanBuffer = "";
    }
  });

  // Quantity sheet
  function openQty(index, product) {
    var line = index === null ? null : cart[index];
    editing = { index: index, product: product || line,
                list: line ? (line.list !== undefined && line.list !== null ? line.list : line.price)
                           : product.price };
    qtyText = line ? showMilli(line.milli) : "";
    priceText = String(line ? line.price : product.price);
    setMode("qty");
    $("qty-name").textContent = editing.product.name;
    $("qty-unit").textContent = editing.product.unit;
    $("qty-remove").hidden = index === null;
    showQty();
    $("qty-dialog").showModal();
  }
  function sheetPrice() { return priceText ? parseInt(priceText, 10) : 0; }
  function setMode(mode) {
    sheetMode = mode;
    $("qty-mode-qty").classList.toggle("on", mode === "qty");
    $("qty-mode-price").classList.toggle("on", mode === "price");
    $("qty-keypad").querySelector('[data-key=","]').disabled = mode === "price";
  }
  function showQty() {
    var milli = parseMilli(qtyText), price = sheetPrice();
    var pricing = sheetMode === "price";
    $("qty-value").textContent = pricing ? group(price) : (qtyText || "0");
    $("qty-unit").textContent = pricing ? "₫/" + editing.product.unit : editing.product.unit;
    var text = milli ? group(price) + " × " + showMilli(milli) + " = " +
      vnd(Math.floor((milli * price + 500) / 1000)) : "";
    if (price !== editing.list && editing.product.id !== null) text += " · " + TEXT.listed + " " + group(editing.list);
    $("qty-amount").textContent = text;
    $("qty-ok").disabled = milli <= 0;
  }
  $("qty-mode-qty").addEventListener("click", function () { setMode("qty"); showQty(); });
  $("qty-mode-price").addEventListener("click", function () {
    if (sheetMode !== "price") priceText = "";   // typing a price starts from empty
    setMode("price");
    showQty();
  });
  function press(text, key, decimals) {
    if (key === "back") return text.slice(0, -1);
    if (key === ",") return decimals && text.indexOf(TEXT.decimal) === -1 ? (text || "0") + TEXT.decimal : text;
    var next = (text === "0" ? "" : text) + key;
    var parts = next.split(TEXT.decimal);
    if (parts[0].length > 7 || (parts[1] && parts[1].length > 3)) return text;
    return next;
  }
  $("qty-keypad").addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    if (sheetMode === "price") {
      var text = press(priceText, button.dataset.key, false);
      priceText = text.length <= 12 ? text : priceText;
    } else {
      qtyText = press(qtyText, button.dataset.key, true);
    }
    showQty();
  });
  $("cart-lines").addEventListener("click", function (event) {
    var li = event.target.closest(".cart-line");
    if (li) openQty(parseInt(li.dataset.index, 10));
  });
  $("qty-ok").addEventListener("click", function () {
    var milli = parseMilli(qtyText), price = sheetPrice();
    if (milli <= 0) return;
    var list = price === editing.list || editing.product.id === null ? undefined : editing.list;
    if (editing.index === null) {
      var p = editing.product;
      cart.push({ id: p.id, name: p.name, price: price, unit: p.unit, milli: milli, list: list });
    } else {
      cart[editing.index].milli = milli;
      cart[editing.index].price = price;
      cart[editing.index].list = list;
    }
    $("qty-dialog").close();
    render();
  });
  $("qty-remove").addEventListener("click", function () {
    cart.splice(editing.index, 1);
    $("qty-dialog").close();
    render();
  });
  $("qty-cancel").addEventListener("click", function () { $("qty-dialog").close(); });
  $("clear-cart").addEventListener("click", function () { $("clear-dialog").showModal(); });
  $("clear-keep").addEventListener("click", function () { $("clear-dialog").close(); });
  $("clear-confirm").addEventListener("click", function () {
    cart = []; discount = null; render();
    $("clear-dialog").close();
  });

  // "Hàng khác": an item not in the list, its name from a chip (or written), its price from the keypad.
  var otherPrice = "";
  function showOther() {
    $("other-value").textContent = group(otherPrice ? parseInt(otherPrice, 10) : 0);
    var name = $("other-name").value.trim();
    document.querySelectorAll("#other-names .chip").forEach(function (chip) {
      chip.classList.toggle("on", chip.dataset.name === name);
    });
    $("other-ok").disabled = !name || !otherPrice || parseInt(otherPrice, 10) <= 0;
  }
  $("other-open").addEventListener("click", function () {
    otherPrice = "";
    $("other-name").value = "";
    showOther();
    $("other-dialog").showModal();
  });
  $("other-names").addEventListener("click", function (event) {
    var chip = event.target.closest(".chip");
    if (!chip) return;
    $("other-name").value = chip.dataset.name;
    showOther();
  });
  $("other-name").addEventListener("input", showOther);
  $("other-keypad").addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    var text = press(otherPrice, button.dataset.key, false);
    otherPrice = text.length <= 12 ? text : otherPrice;
    showOther();
  });
  $("other-cancel").addEventListener("click", function () { $("other-dialog").close(); });
  $("other-ok").addEventListener("click", function () {
    var name = $("other-name").value.trim(), price = parseInt(otherPrice || "0", 10);
    if (!name || price <= 0) return;
    cart.push({ id: null, name: name.slice(0, 120), price: price, unit: TEXT.piece, milli: 1000 });
    $("other-dialog").close();
    render();
  });

  // Discount on the whole sale: an amount from the keypad, and a reason (a chip, or written).
  var discountText = "", discountReason = "";
  function showDiscount() {
    var amount = discountText ? parseInt(discountText, 10) : 0;
    $("discount-value").textContent = group(amount);
    $("discount-total").textContent = TEXT.goods + " " + vnd(goods()) + " → " + vnd(goods() - amount);
    document.querySelectorAll("#discount-reasons .chip").forEach(function (chip) {
      chip.classList.toggle("on", chip.dataset.reason === discountReason);
    });
  }
  $("discount-open").addEventListener("click", function () {
    discountText = discount ? String(discount.amount) : "";
    discountReason = discount ? discount.reason : "";
    $("discount-reason").value = "";
    $("discount-error").hidden = true;
    showDiscount();
    $("discount-dialog").showModal();
  });
  $("discount-keypad").addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    var text = press(discountText, button.dataset.key, false);
    discountText = text.length <= 12 ? text : discountText;
    showDiscount();
  });
  $("discount-reasons").addEventListener("click", function (event) {
    var chip = event.target.closest(".chip");
    if (!chip) return;
    discountReason = chip.dataset.reason;
    $("discount-reason").value = "";
    $("discount-error").hidden = true;
    showDiscount();
  });
  $("discount-reason").addEventListener("input", function () {
    discountReason = $("discount-reason").value.trim();
    showDiscount();
  });
  $("discount-ok").addEventListener("click", function () {
    var amount = discountText ? parseInt(discountText, 10) : 0;
    var problem = amount >= goods() ? TEXT.discount_big : (amount > 0 && !discountReason ? TEXT.discount_reason : "");
    if (problem) {
      $("discount-error").textContent = problem;
      $("discount-error").hidden = false;
      return;
    }
    discount = amount > 0 ? { amount: amount, reason: discountReason } : null;
    $("discount-dialog").close();
    render();
  });
  $("discount-remove").addEventListener("click", function () {
    discount = null;
    $("discount-dialog").close();
    render();
  });
  $("discount-cancel").addEventListener("click", function () { $("discount-dialog").close(); });
  function showRefusal(result) {
    var error = result.data && result.data.error;
    var message = error ? error.message : TEXT.failed;
    if (result.status === 401) message = TEXT.locked;
    $("pay-error").textContent = message;
    $("pay-error").hidden = false;
    $("pay-owner").hidden = !(error && error.code === "owner_required");
  }

  // Payment sheet
  function showPay() {
    var due = total();
    $("pay-due").textContent = vnd(due);
    $("pay-tendered").textContent = group(tendered);
    var change = tendered - due;
    var row = $("pay-change").parentNode;
    row.classList.toggle("short", change < 0);
    $("change-label").textContent = change < 0 ? TEXT.short : TEXT.change;
    $("pay-change").textContent = vnd(Math.abs(change));
    $("record").disabled = change < 0 || recording;
    // Nothing given yet: all by transfer (this sheet also holds the buyer's tax code in MTT
    // mode); some cash given: the rest by transfer.
    $("split-qr").hidden = tendered >= due;
    $("pay-credit").hidden = tendered >= due;     // "Ghi nợ": the rest on a customer's account
    $("split-qr").textContent = tendered > 0 ? TEXT.rest_qr : TEXT.all_qr;
  }
  $("pay").addEventListener("click", function () {
    tendered = 0;
    $("pay-error").hidden = true;
    $("pay-owner").hidden = true;
    showPay();
    $("pay-dialog").showModal();
  });
  document.querySelector(".notes").addEventListener("click", function (event) {
    var note = event.target.closest(".note");
    if (!note) return;
    tendered += parseInt(note.dataset.note, 10);
    showPay();
  });
  $("pay-keypad").addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    var text = press(tendered ? String(tendered) : "", button.dataset.key, false);
    tendered = text && text.length <= 12 ? parseInt(text, 10) : (text ? tendered : 0);
    showPay();
  });
  $("pay-exact").addEventListener("click", function () { tendered = total(); showPay(); });
  $("pay-clear").addEventListener("click", function () { tendered = 0; showPay(); });
  $("pay-cancel").addEventListener("click", function () { $("pay-dialog").close(); });

  $("record").addEventListener("click", function () {
    var due = total();
    if (recording || tendered < due) return;
    recording = true;
    showPay();
    var body = saleBody([{ method: "cash", amount: due, tendered: tendered }]);
    fetch("/api/sales", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": CSRF, "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; },
                                   function () { return { status: response.status, data: null }; });
    }).then(function (result) {
      recording = false;
      if (result.status === 201) {
        $("pay-dialog").close();
        showDone(result.data);
        return;
      }
      showRefusal(result);
      showPay();
    }, function () {
      recording = false;
      $("pay-error").textContent = TEXT.failed;
      $("pay-error").hidden = false;
      showPay();
    });
  });
  $("done-new").addEventListener("click", function () { $("done-dialog").close(); });

  // In MTT e-invoice mode the buyer may ask for her tax code (10 digits, or 10-3) or ID number.
  function withBuyer(body) {
    var input = $("buyer-id"), value = input ? input.value.trim() : "";
    if (value) body.buyer = /^\d{10}(-\d{3})?$/.test(value) ? { tax_code: value } :
      { id_number: value.toUpperCase() };
    return body;
  }

  function showDone(sale, keepCart) {
    if (!keepCart) { cart = []; discount = null; render(); }
    var cash = sale.payments.filter(function (p) { return p.method === "cash"; })[0];
    var qr = sale.payments.filter(function (p) { return p.method === "qr"; })[0];
    var credit = sale.payments.filter(function (p) { return p.method === "credit"; })[0];
    $("done-number").textContent = TEXT.number + " " + sale.number;
    $("done-change").textContent = vnd(cash ? cash.change : 0);
    $("done-change-row").hidden = !cash || Boolean(credit && !cash.change);
    // On credit (static/pos/credit.js adds whose account and her balance now).
    $("done-credit").hidden = !credit;
    if (credit) $("done-credit").textContent = fill(TEXT.on_credit, {
      amount: vnd(credit.amount), name: sale.customer ? sale.customer.name : "",
      balance: sale.customer ? vnd(sale.customer.balance) : "" });
    $("done-qr").hidden = !qr;
    if (qr) $("done-qr").textContent = (qr.state === "bank_confirmed" ? TEXT.bank_confirmed :
      TEXT.vendor_confirmed) + ": " + vnd(qr.amount) + " · " + (qr.reference || "");
    $("done-total").textContent = TEXT.total + ": " + vnd(sale.total);
    $("done-invoice").hidden = !sale.invoice_code;
    $("done-invoice").textContent = sale.invoice_code || "";
    if ($("buyer-id")) $("buyer-id").value = "";
    $("done-view").href = "/sales/" + sale.id;
    lastSaleId = sale.id;
    $("done-print").textContent = $("done-print").dataset.label || $("done-print").textContent;
    $("done-print").dataset.label = $("done-print").textContent;
    $("done-print").disabled = false;
    $("done-dialog").showModal();
    refreshStock();
  }

  // QR transfer: a code with the amount and a reference; the vendor checks HER bank's message
  // and taps "Money received", or the bank's notification (through the provincial server)
  // records the sale by itself. The pending code is kept by the stall, so a reload shows it again.
  // A code made from the cart on screen is `fromCart`; one taken back from the parked strip
  // (static/pos/parked.js) is not, and paying it leaves the next customer's cart alone.
  var qrPending = null, qrPoll = null, qrRounds = 0, qrBusy = false, qrFromCart = true;
  function api(method, url, body) {
    var headers = { "Accept": "application/json", "X-CSRFToken": CSRF };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url, { method: method, credentials: "same-origin", headers: headers,
                        body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (response) {
        return response.json().then(function (data) { return { status: response.status, data: data }; },
                                    function () { return { status: response.status, data: null }; });
      });
  }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }
  function problemText(mismatch) {
    if (!mismatch) return "";
    var text = TEXT[mismatch.reason] || TEXT.unknown_reference;
    return fill(text, { paid: vnd(mismatch.bank_amount || 0), due: vnd(mismatch.expected || 0) });
  }
  function showQr(pending, fromCart) {
    qrPending = pending;
    qrFromCart = fromCart !== false;
    $("qr-img").src = "/api/qr-payments/" + pending.id + "/qr.svg";
    $("qr-amount").textContent = vnd(pending.amount);
    $("qr-ref").textContent = pending.reference;
    $("qr-bank").textContent = TEXT.bank_name + ": " + pending.bank_name + " · " + pending.account;
    $("qr-holder").textContent = TEXT.holder + ": " + pending.holder;
    $("qr-bill").href = "/qr/" + pending.id + "/print-view?back=/";
    showQrProblem(pending.mismatch);
    if (!$("qr-dialog").open) $("qr-dialog").showModal();
    clearInterval(qrPoll);
    qrRounds = 0;
    qrPoll = setInterval(pollQr, 3000);
  }
  function showQrProblem(mismatch) {
    $("qr-problem").textContent = problemText(mismatch);
    $("qr-problem").hidden = !mismatch;
  }
  function closeQr() {
    clearInterval(qrPoll);
    qrPending = null;
    if ($("qr-dialog").open) $("qr-dialog").close();
  }
  function recorded(pending) {
    return api("GET", "/api/sales/" + pending.sale_id).then(function (result) {
      var keep = !qrFromCart;
      closeQr();
      if (result.status === 200) showDone(result.data, keep);
    });
  }
  function pollQr() {
    if (!qrPending) return;
    qrRounds += 1;
    if (qrRounds % 5 === 0 && !$("sync-now").hidden) {     // ask the province every 15 s
      fetch("/sync/now", { method: "POST", credentials: "same-origin",
                           headers: { "X-CSRFToken": CSRF, "Accept": "application/json" } });
    }
    api("GET", "/api/qr-payments/" + qrPending.id).then(function (result) {
      if (result.status !== 200 || !qrPending) return;
      var pending = result.data;
      if (pending.state === "recorded") recorded(pending);
      else if (pending.state === "cancelled") closeQr();
      else showQrProblem(pending.mismatch);
    }, function () {});
  }
  function startQr(cashPart) {
    var due = total();
    if (qrBusy || due <= 0) return;
    qrBusy = true;
    var payments = [];
    if (cashPart > 0) payments.push({ method: "cash", amount: cashPart, tendered: cashPart });
    payments.push({ method: "qr", amount: due - cashPart });
    api("POST", "/api/qr-payments", saleBody(payments)).then(function (result) {
      qrBusy = false;
      if (result.status === 201) {
        if ($("pay-dialog").open) $("pay-dialog").close();
        showQr(result.data);
        return;
      }
      showRefusal(result);
      if (!$("pay-dialog").open) { tendered = 0; showPay(); $("pay-dialog").showModal(); }
    }, function () {
      qrBusy = false;
      $("pay-error").textContent = TEXT.failed;
      $("pay-error").hidden = false;
    });
  }
  $("pay-qr").addEventListener("click", function () { $("pay-error").hidden = true; startQr(0); });
  $("split-qr").addEventListener("click", function () { startQr(tendered); });
  $("qr-received").addEventListener("click", function () {
    if (!qrPending || qrBusy) return;
    qrBusy = true;
    $("qr-received").disabled = true;
    api("POST", "/api/qr-payments/" + qrPending.id + "/confirm").then(function (result) {
      qrBusy = false;
      $("qr-received").disabled = false;
      if (result.status === 200 || result.status === 201) {
        var keep = !qrFromCart;
        closeQr();
        showDone(result.data, keep);
        return;
      }
      var message = result.data && result.data.error ? result.data.error.message : TEXT.failed;
      if (result.status === 401) message = TEXT.locked;
      $("qr-problem").textContent = message;
      $("qr-problem").hidden = false;
    }, function () {
      qrBusy = false;
      $("qr-received").disabled = false;
      $("qr-problem").textContent = TEXT.failed;
      $("qr-problem").hidden = false;
    });
  });
  $("qr-cancel").addEventListener("click", function () {
    if (!qrPending) return;
    var id = qrPending.id, pending = qrPending, fromCart = qrFromCart;
    api("POST", "/api/qr-payments/" + id + "/cancel").then(function (result) {
      if (result.status !== 409) {
        closeQr();
        // A code taken back from the strip: its goods wait again as a parked cart.
        if (!fromCart && result.status === 200) {
          var request = pending.request || {}, again = { lines: request.lines, label: pending.reference };
          if (request.discount) again.discount = request.discount;
          api("POST", "/api/parked-carts", again).then(parkedChanged, parkedChanged);
        }
        return;
      }
      api("GET", "/api/qr-payments/" + id).then(function (again) {   // the bank was faster
        if (again.status === 200 && again.data.state === "recorded") recorded(again.data);
      });
    }, function () {});
  });
  // "Giữ QR": the buyer fetches her phone; the code waits in the strip and the next customer is
  // served. The bank's notification still records it (parked.js shows when it does).
  $("qr-park").addEventListener("click", function () {
    if (!qrPending || qrBusy) return;
    var fromCart = qrFromCart;
    qrBusy = true;
    api("POST", "/api/qr-payments/" + qrPending.id + "/park").then(function (result) {
      qrBusy = false;
      if (result.status !== 200) {
        $("qr-problem").textContent = result.data && result.data.error ? result.data.error.message : TEXT.failed;
        $("qr-problem").hidden = false;
        return;
      }
      closeQr();
      if (fromCart) { cart = []; discount = null; render(); }
      parkedChanged();
    }, function () {
      qrBusy = false;
      $("qr-problem").textContent = TEXT.failed;
      $("qr-problem").hidden = false;
    });
  });
  function parkedChanged() { document.dispatchEvent(new CustomEvent("parked-changed")); }
  $("qr-dialog").addEventListener("cancel", function (event) { event.preventDefault(); });
  api("GET", "/api/qr-payments").then(function (result) {   // a code left open before a restart
    if (result.status !== 200) return;
    var open = result.data.qr_payments.filter(function (p) { return !p.parked; });
    if (open.length) showQr(open[0]);
  }, function () {});

  // Printing: queue the receipt; without a printer, open the PDF for the browser's print dialog.
  var lastSaleId = null;
  $("done-print").addEventListener("click", function () {
    if (!lastSaleId) return;
    var id = lastSaleId;
    fetch("/api/sales/" + id + "/print", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": CSRF, "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 409) window.location = "/sales/" + id + "/print-view?back=/";
      else { $("done-print").textContent = TEXT.printing; $("done-print").disabled = true; }
      refreshPrinter();
    });
  });
  function refreshPrinter() {
    fetch("/api/printer", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (status) {
        if (!status) return;
        var bad = status.state === "error" || status.held > 0;
        $("printer-alert").hidden = !bad;
        $("printer-text").textContent = status.state === "error" ? status.message : TEXT.held;
      }, function () {});
  }
  setInterval(refreshPrinter, 20000);

  // Sync with the province: the indicator above the cart and "Sync now". The server sends the
  // texts ready in the interface language; the request never waits for the network.
  var syncPoll = null;
  function showSync(state) {
    var bar = $("sync-bar");
    bar.className = "sync-bar level-" + state.level;
    if (state.paired && $("sync-pending")) {
      $("sync-pending").textContent = state.pending;
      $("sync-ago").textContent = state.syncing ? TEXT.syncing :
        state.last_ago + (state.via_bundle ? " (USB)" : "");
    }
    var problem = state.attention || state.error;
    $("sync-problem").textContent = problem;
    $("sync-problem").hidden = !problem;
    $("sync-now").disabled = state.syncing;
    $("sync-now").textContent = state.syncing ? TEXT.syncing : TEXT.sync_now;
  }
  function refreshSync() {
    return fetch("/sync/state", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) { if (state) showSync(state); return state; }, function () { return null; });
  }
  $("sync-now").addEventListener("click", function () {
    $("sync-now").disabled = true;
    $("sync-now").textContent = TEXT.syncing;
    fetch("/sync/now", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": CSRF, "Accept": "application/json" }
    }).then(function () {
      var rounds = 0;
      clearInterval(syncPoll);
      syncPoll = setInterval(function () {   // follow it for a while, then back to the slow pace
        rounds += 1;
        refreshSync().then(function (state) {
          if (rounds > 40 || (rounds > 1 && state && !state.syncing)) clearInterval(syncPoll);
        });
      }, 1500);
    }, function () { $("sync-now").disabled = false; $("sync-now").textContent = TEXT.sync_now; });
  });
  setInterval(refreshSync, 30000);

  // What the parked strip (static/pos/parked.js) needs from the till.
  window.Sell = {
    api: api, vnd: vnd, text: TEXT,
    isEmpty: function () { return cart.length === 0; },
    body: function () {
      var body = { lines: cart.map(lineBody) };
      if (discount) body.discount = discount;
      return body;
    },
    clear: function () { cart = []; discount = null; render(); },
    load: function (parked) {
      cart = parked.lines.map(function (l) {
        return { id: l.product_id, name: l.name, unit: l.unit, price: l.unit_price,
                 milli: parseMilli(l.quantity), list: l.list_price };
      });
      discount = parked.discount || null;
      render();
    },
    showQr: function (pending) { showQr(pending, false); },
    // What the credit picker (static/pos/credit.js) needs: the sale as the API takes it, the
    // amount due and the cash given in the cash sheet, and the done sheet for a new sale.
    saleBody: saleBody, fill: fill,
    due: function () { return total(); },
    tendered: function () { return tendered; },
    recorded: function (sale) {
      if ($("pay-dialog").open) $("pay-dialog").close();
      showDone(sale);
    },
    showDone: function (sale) { showDone(sale, true); },
    qrOnScreen: function () { return qrPending ? qrPending.id : null; }
  };
  render();
})();
