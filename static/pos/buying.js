// The buying page: a new product's fields show when "+ New goods" is chosen, and each line's
// amount and the total follow the keypad (quantity × price per unit, rounded as the stall does).
(function () {
  var form = document.getElementById("buy-form");
  if (!form) return;
  function group(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, "."); }
  function milli(text) {
    var t = (text || "").trim().replace(",", ".");
    if (!/^\d{1,7}(\.\d{1,3})?$/.test(t)) return 0;
    var parts = t.split(".");
    return parseInt(parts[0], 10) * 1000 + parseInt(((parts[1] || "") + "000").slice(0, 3), 10);
  }
  function amount(text) {
    var t = (text || "").replace(/[.\s]/g, "");
    return /^\d{1,12}$/.test(t) ? parseInt(t, 10) : 0;
  }
  function update() {
    var total = 0;
    form.querySelectorAll(".buy-line").forEach(function (line) {
      var n = line.dataset.line;
      var choice = document.getElementById("p" + n).value;
      line.querySelector(".buy-new").hidden = choice !== "new";
      var sum = Math.floor((milli(document.getElementById("q" + n).value) *
                            amount(document.getElementById("c" + n).value) + 500) / 1000);
      document.getElementById("amount" + n).textContent = sum ? "= " + group(sum) + " ₫" : "";
      total += sum;
    });
    document.getElementById("buy-total").textContent = group(total) + " ₫";
  }
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})();
