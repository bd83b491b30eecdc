// PIN pad: the on-screen digits type into the PIN field (no OS keyboard on a kiosk).
(function () {
  document.querySelectorAll(".pin-keypad").forEach(function (pad) {
    var field = document.getElementById(pad.dataset.target);
    pad.addEventListener("click", function (event) {
      var key = event.target.closest("button") && event.target.closest("button").dataset.key;
      if (!key) return;
      if (key === "back") field.value = field.value.slice(0, -1);
      else if (field.value.length < 8) field.value += key;
      field.focus();
    });
  });
})();
