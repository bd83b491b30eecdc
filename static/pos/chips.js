// Suggestion chips: tapping one fills its field, so a reason needs no typing on a touch screen.
// A button with data-target and data-fill puts that value in the field (e.g. "All" on a refund).
(function () {
  document.querySelectorAll(".chips[data-target]").forEach(function (chips) {
    var field = document.getElementById(chips.dataset.target);
    chips.addEventListener("click", function (event) {
      var chip = event.target.closest(".chip");
      if (chip && field) field.value = chip.textContent.trim();
    });
  });
  document.querySelectorAll("button[data-target][data-fill]").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.dataset.target);
      if (field) field.value = button.dataset.fill;
    });
  });
})();
