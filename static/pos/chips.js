// Suggestion chips: tapping one fills its field, so a reason needs no typing on a touch screen.
(function () {
  document.querySelectorAll(".chips[data-target]").forEach(function (chips) {
    var field = document.getElementById(chips.dataset.target);
    chips.addEventListener("click", function (event) {
      var chip = event.target.closest(".chip");
      if (chip && field) field.value = chip.textContent.trim();
    });
  });
})();
