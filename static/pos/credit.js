// "Ghi nợ" in the cash sheet: the rest of the sale (what the cash given does not cover) goes on a
// customer's account in the credit book. The picker lists those who owe, then the recently seen,
// as big buttons (name and balance); one tap on her name records the sale:
//   cash given → {"method": "cash", "amount": given, "tendered": given}
//   the rest   → {"method": "credit", "amount": rest, "customer_id": id}
// A search box (the system keyboard; the marks bar of vnmarks.js comes with it) finds her by name
// without diacritics or by phone; "+ Khách mới" needs only a name (a phone from the number pad).
// Above her limit a helper gets 403 owner_required: the message and the owner's PIN link, as
// for a haggled price.
(function () {
  "use strict";
  var Sell = window.Sell;
  if (!Sell || !document.getElementById("credit-dialog")) return;
  var $ = function (id) { return document.getElementById(id); };
  var TEXT = Sell.text;
  var busy = false, searchTimer = null, asked = 0;

  function rest() { return Sell.due() - Sell.tendered(); }
  function problem(result) {
    var error = result && result.data && result.data.error;
    var message = error ? error.message : TEXT.failed;
    if (result && result.status === 401) message = TEXT.locked;
    $("credit-error").textContent = message;
    $("credit-error").hidden = false;
    $("credit-owner").hidden = !(error && error.code === "owner_required");
  }
  function clearProblem() {
    $("credit-error").hidden = true;
    $("credit-owner").hidden = true;
  }
  function setBusy(on) {
    busy = on;
    document.querySelectorAll("#credit-dialog button").forEach(function (b) {
      if (b.id !== "credit-back") b.disabled = on;
    });
  }

  // The list: one big button per customer, her name and what she owes.
  function show(customers, searched) {
    var grid = $("credit-customers");
    grid.textContent = "";
    customers.forEach(function (c) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "customer-btn";
      button.dataset.id = c.id;
      var name = document.createElement("span");
      name.className = "c-name";
      name.textContent = c.name;
      var owes = document.createElement("span");
      owes.className = "c-owes";
      owes.textContent = c.balance > 0 ? Sell.fill(TEXT.owes, { amount: Sell.vnd(c.balance) }) : "";
      button.append(name, owes);
      button.addEventListener("click", function () { record(c); });
      grid.appendChild(button);
    });
    $("credit-none").textContent = searched ? TEXT.not_found : TEXT.no_customers;
    $("credit-none").hidden = customers.length > 0;
  }
  function load() {
    var query = $("credit-search").value.trim(), ticket = ++asked;
    var url = "/api/customers" + (query ? "?q=" + encodeURIComponent(query) : "");
    Sell.api("GET", url).then(function (result) {
      if (ticket !== asked) return;                     // a later search already answered
      if (result.status === 200) show(result.data.customers, Boolean(query));
      else problem(result);
    }, function () { if (ticket === asked) problem(null); });
  }

  function open() {
    if (rest() <= 0) return;
    clearProblem();
    setBusy(false);
    var title = Sell.fill(TEXT.credit_title, { amount: Sell.vnd(rest()) });
    if (Sell.tendered() > 0) title += " · " + Sell.fill(TEXT.credit_given, { amount: Sell.vnd(Sell.tendered()) });
    $("credit-title").textContent = title;
    $("credit-search").value = "";
    $("credit-pick").hidden = false;
    $("credit-form").hidden = true;
    $("credit-customers").textContent = "";
    $("credit-none").hidden = true;
    $("credit-dialog").showModal();
    load();
  }

  // Her name tapped (or just added): record the sale, then the done sheet with her balance.
  function record(customer) {
    if (busy) return;
    var given = Sell.tendered(), payments = [];
    if (given > 0) payments.push({ method: "cash", amount: given, tendered: given });
    payments.push({ method: "credit", amount: rest(), customer_id: customer.id });
    clearProblem();
    setBusy(true);
    Sell.api("POST", "/api/sales", Sell.saleBody(payments)).then(function (result) {
      if (result.status !== 201) { setBusy(false); problem(result); return; }
      var sale = result.data;
      var credit = payments[payments.length - 1].amount;
      // Her balance now (the sale is recorded: the done sheet never waits on this for long).
      return Sell.api("GET", "/api/customers/" + customer.id).then(function (answer) {
        return answer.status === 200 ? answer.data : null;
      }, function () { return null; }).then(function (fresh) {
        sale.customer = fresh ? { name: fresh.name, balance: fresh.balance }
                              : { name: customer.name, balance: customer.balance + credit };
        setBusy(false);
        $("credit-dialog").close();
        Sell.recorded(sale);
      });
    }, function () { setBusy(false); problem(null); });
  }

  // "+ Khách mới": a name (the search text to start with) and a phone if she gives one.
  function newCustomer() {
    clearProblem();
    var typed = $("credit-search").value.trim(), phone = /^[0-9 .]+$/.test(typed);
    $("credit-name").value = phone ? "" : typed;                 // a phone searched for: hers
    $("credit-phone").value = phone ? typed.replace(/\D/g, "") : "";
    $("credit-pick").hidden = true;
    $("credit-form").hidden = false;
    $("credit-name").focus();
  }
  function addAndRecord() {
    if (busy) return;
    var body = { name: $("credit-name").value.trim() };
    var phone = $("credit-phone").value.trim();
    if (!body.name) {   // said here: the book's own message names the field for goods
      problem({ status: 400, data: { error: { message: TEXT.need_name } } });
      $("credit-name").focus();
      return;
    }
    if (phone) body.phone = phone;
    clearProblem();
    setBusy(true);
    Sell.api("POST", "/api/customers", body).then(function (result) {
      setBusy(false);
      if (result.status !== 201) { problem(result); return; }
      // She is in the book now: back to the list, so a refused sale can be tried again.
      $("credit-search").value = result.data.name;
      $("credit-form").hidden = true;
      $("credit-pick").hidden = false;
      show([result.data], true);
      record(result.data);
    }, function () { setBusy(false); problem(null); });
  }

  $("pay-credit").addEventListener("click", open);
  // "Quay lại": from the new customer's form back to the list, from the list to the cash sheet.
  $("credit-back").addEventListener("click", function () {
    clearProblem();
    if (!$("credit-form").hidden) {
      $("credit-form").hidden = true;
      $("credit-pick").hidden = false;
      return;
    }
    $("credit-dialog").close();
  });
  $("credit-search").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(load, 250);
  });
  $("credit-search").addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); clearTimeout(searchTimer); load(); }
  });
  $("credit-new").addEventListener("click", newCustomer);
  $("credit-form-ok").addEventListener("click", addAndRecord);
  $("credit-name").addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); addAndRecord(); }
  });
})();
