// Vietnamese marks for any on-screen keyboard: while a text field has focus, a bar at the bottom
// of the window (right above a docked keyboard) adds ă â đ ê ô ơ ư at the cursor and puts a tone
// (sắc, huyền, hỏi, ngã, nặng) on the right vowel of the word before it. It is the small fallback of docs/KIOSK.md for a kiosk
// whose system keyboard cannot type Vietnamese (squeekboard under Wayland has no Vietnamese
// layout); with onboard and fcitx5-unikey it is simply a shortcut. Tapping it never takes the
// focus from the field.
(function () {
  "use strict";
  var TONES = { sac: "\u0301", huyen: "\u0300", hoi: "\u0309", nga: "\u0303", nang: "\u0323" };
  var TONE_MARKS = /[\u0300\u0301\u0303\u0309\u0323]/g;
  var VOWEL = /[aeiouy]/i;
  var HATTED = /[\u0302\u0306\u031b]/;   // â ê ô, ă, ơ ư: the tone goes on such a vowel

  // The word split into vowels (each with its own combining marks) and the rest.
  function parts(word) {
    var out = [], text = word.normalize("NFD").replace(TONE_MARKS, "");
    for (var i = 0; i < text.length; i++) {
      var ch = text[i];
      if (/[\u0300-\u036f]/.test(ch) && out.length) out[out.length - 1].text += ch;
      else out.push({ text: ch, vowel: VOWEL.test(ch) });
    }
    return out;
  }
  // Which vowel of the word carries the tone (the common rules; "qu" and "gi" start consonants).
  function toneIndex(p) {
    var start = 0;
    if (p.length > 2 && /^q$/i.test(p[0].text) && /^u$/i.test(p[1].text)) start = 2;
    if (p.length > 2 && /^g$/i.test(p[0].text) && /^i$/i.test(p[1].text) && p[2].vowel) start = 2;
    var vowels = [];
    for (var i = start; i < p.length; i++) if (p[i].vowel) vowels.push(i);
    if (!vowels.length && start) vowels.push(start - 1);   // "gì", "quý"… the i or u itself
    if (!vowels.length) return -1;
    for (var j = vowels.length - 1; j >= 0; j--) if (HATTED.test(p[vowels[j]].text)) return vowels[j];
    var last = vowels[vowels.length - 1];
    if (vowels.length === 1) return vowels[0];
    if (last < p.length - 1) return last;                  // a final consonant: the last vowel
    return vowels.length === 3 ? vowels[1] : vowels[0];    // "hòa", "ngoái", "mùa"
  }
  function withTone(word, tone) {
    var had = (word.normalize("NFD").match(TONE_MARKS) || [])[0];
    var p = parts(word), at = toneIndex(p);
    if (at < 0) return word;
    if (had !== TONES[tone]) p[at].text += TONES[tone];     // the same tone again takes it off
    return p.map(function (x) { return x.text; }).join("").normalize("NFC");
  }
  window.VnMarks = { withTone: withTone };

  var bar = document.getElementById("vn-marks");
  if (!bar) return;
  var field = null;
  function isText(el) {
    return el && ((el.tagName === "INPUT" && /^(text|search|)$/.test(el.getAttribute("type") || "")
                   && !el.dataset.keypad) || el.tagName === "TEXTAREA");
  }
  document.addEventListener("focusin", function (event) {
    field = isText(event.target) ? event.target : null;
    // A modal sheet sits in the top layer, above any z-index: the bar goes inside it.
    var host = field && field.closest("dialog") || document.body;
    if (field && bar.parentNode !== host) host.appendChild(bar);
    bar.hidden = !field;
  });
  document.addEventListener("focusout", function () {
    setTimeout(function () { if (!isText(document.activeElement)) { field = null; bar.hidden = true; } }, 0);
  });
  bar.addEventListener("pointerdown", function (event) { event.preventDefault(); });
  bar.addEventListener("mousedown", function (event) { event.preventDefault(); });
  bar.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button || !field) return;
    var value = field.value, end = field.selectionEnd === null ? value.length : field.selectionEnd;
    var before = value.slice(0, end), after = value.slice(end);
    if (button.dataset.letter) {
      before += button.dataset.letter;
    } else {
      var word = /[^\s.,;:!?()"'\/-]*$/.exec(before)[0];
      before = before.slice(0, before.length - word.length) + withTone(word, button.dataset.tone);
    }
    field.value = before + after;
    field.setSelectionRange(before.length, before.length);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
