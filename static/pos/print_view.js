// No receipt printer: open the browser's own print dialog on the receipt PDF once it has loaded.
(function () {
  var frame = document.getElementById("receipt-frame");
  function printIt() {
    try { frame.contentWindow.focus(); frame.contentWindow.print(); } catch (e) { window.print(); }
  }
  frame.addEventListener("load", function () { setTimeout(printIt, 300); });
  document.getElementById("print-now").addEventListener("click", printIt);
})();
