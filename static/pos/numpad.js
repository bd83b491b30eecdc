// Every number field of a form takes its value from the app's own keypad, since the kiosk has no
// keyboard: a field marked data-keypad="KIND" opens one shared sheet (templates/pos/_keypad.html)
// when tapped, and OK writes the value back. Kinds: money (whole đồng, a 000 key), decimal (a
// comma), digits, signed (a ± key), date (dd/mm/yyyy, a / key), taxcode (0101234567-001, a -
// key), time (22:00, a : key) and pin (shown as dots).
// A laptop's keyboard still types into the field as before.
(function () {
  "use strict";
  var dialog = document.getElementById("numpad-dialog");
  if (!dialog) return;
  var $ = function (id) { return document.getElementById(id); };
  var DECIMAL = dialog.dataset.decimal || ",";
  var EXTRA = { money: "000", decimal: DECIMAL, digits: "", signed: "±", date: "/", pin: "",
                taxcode: "-", time: ":" };
  var LIMIT = { money: 12, decimal: 11, digits: 32, signed: 13, date: 10, pin: 8, taxcode: 14,
                time: 5 };
  var field = null, kind = "money", text = "";

  function group(digits) { return digits.replace(/\B(?=(\d{3})+(?!\d))/g, "."); }
  function shown() {
    if (kind === "pin") return text.replace(/./g, "●");
    if (kind === "money") return group(text || "0");
    if (kind === "signed") {
      var negative = text.charAt(0) === "-", digits = negative ? text.slice(1) : text;
      return (negative ? "−" : "") + group(digits || "0");
    }
    return text;
  }
  function clean(value, kind) {
    if (kind === "money" || kind === "digits" || kind === "pin") return value.replace(/\D/g, "");
    if (kind === "taxcode") return value.replace(/[^\d-]/g, "");
    if (kind === "signed") return (/^\s*[-−]/.test(value) ? "-" : "") + value.replace(/\D/g, "");
    return value.trim();
  }
  function labelOf(input) {
    var label = input.closest("label");
    var span = label && label.querySelector("span");
    return span ? span.textContent.replace(/\s*\*$/, "") : (input.getAttribute("aria-label") || "");
  }
  function show() { $("numpad-value").textContent = shown(); }
  function open(input) {
    field = input;
    kind = EXTRA.hasOwnProperty(input.dataset.keypad) ? input.dataset.keypad : "digits";
    text = clean(input.value || "", kind).slice(0, LIMIT[kind]);
    var extra = dialog.querySelector(".keypad-extra");
    extra.dataset.key = EXTRA[kind];
    extra.textContent = EXTRA[kind];
    extra.disabled = !EXTRA[kind];
    $("numpad-label").textContent = labelOf(input);
    show();
    dialog.showModal();
  }
  function press(key) {
    if (key === "back") { text = text.slice(0, -1); return; }
    if (key === "±") { text = text.charAt(0) === "-" ? text.slice(1) : "-" + text; return; }
    if (key === DECIMAL && kind === "decimal" && text.indexOf(DECIMAL) !== -1) return;
    if ((key === "/" || key === "-" || key === ":") && (text.split(key).length > 2 || !text ||
                                         text.slice(-1) === key)) return;
    var next = (kind === "money" && text === "0" ? "" : text) + key;
    if (next.replace(/^-/, "").length <= LIMIT[kind]) text = next;
  }
  $("numpad-keys").addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button || !button.dataset.key) return;
    press(button.dataset.key);
    show();
  });
  $("numpad-clear").addEventListener("click", function () { text = ""; show(); });
  $("numpad-cancel").addEventListener("click", function () { dialog.close(); });
  $("numpad-ok").addEventListener("click", function () {
    if (field) {
      field.value = text;
      field.dispatchEvent(new Event("input", { bubbles: true }));
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
    dialog.close();
  });
  dialog.addEventListener("close", function () { field = null; });
  document.querySelectorAll("input[data-keypad]").forEach(function (input) {
    input.setAttribute("inputmode", "none");   // no system keyboard: the app's keypad instead
    input.addEventListener("click", function () { open(input); });
  });
})();
