// Printer page: show only the fields of the chosen connection.
(function () {
  var select = document.getElementById("backend");
  function show() {
    document.querySelectorAll("[data-backend]").forEach(function (field) {
      field.hidden = field.dataset.backend !== select.value;
    });
  }
  select.addEventListener("change", show);
  show();
})();
