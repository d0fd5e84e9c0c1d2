// Live character / encoding / SMS-parts counter for the message box (no library).
// The server computes the same figures in the cost preview; those are authoritative.
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENSION = "\f^{}\\[~]|€";

  function count(text) {
    // A "~~~" line starts a comment that is stored, not sent.
    var cut = text.search(/(^|\r?\n)[ \t]*~~~[ \t]*(\r?\n|$)/);
    if (cut >= 0) { text = text.slice(0, cut); }
    var chars = Array.from(text);
    var gsm = chars.every(function (c) { return BASIC.indexOf(c) >= 0 || EXTENSION.indexOf(c) >= 0; });
    var weight = gsm
      ? function (c) { return EXTENSION.indexOf(c) >= 0 ? 2 : 1; }
      : function (c) { return c.codePointAt(0) > 0xFFFF ? 2 : 1; };
    var single = gsm ? 160 : 70, multi = gsm ? 153 : 67;
    var units = chars.reduce(function (n, c) { return n + weight(c); }, 0);
    var parts = 1;
    if (units > single) {
      // Split like the server: never between the halves of an escape or a surrogate pair.
      var used = 0;
      chars.forEach(function (c) {
        var w = weight(c);
        if (used + w > multi) { parts += 1; used = 0; }
        used += w;
      });
    }
    return { chars: chars.length, encoding: gsm ? "GSM-7" : "UCS-2", parts: parts };
  }

  // A count in the page's language: the server gives each plural category's phrase
  // (data-chars, data-parts: {"one": "{n} character", …}); English if it gave none.
  function phrase(json, n, english) {
    var forms = null;
    try { forms = JSON.parse(json || "null"); } catch (e) { forms = null; }
    if (!forms) { return n + " " + english + (n === 1 ? "" : "s"); }
    var category = new Intl.PluralRules(document.documentElement.lang || "en").select(n);
    return (forms[category] || forms.other || forms.many || "{n}").replace("{n}", n);
  }

  function bind(box) {
    var out = document.getElementById(box.dataset.counter);
    function update() {
      var c = count(box.value);
      out.textContent = phrase(out.dataset.chars, c.chars, "character") + " · " + c.encoding +
        " · " + phrase(out.dataset.parts, c.parts, "SMS part");
    }
    box.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-counter]").forEach(bind);
  });

  // <form data-confirm="Question?">: ask before submitting (no inline handlers in templates).
  document.addEventListener("submit", function (event) {
    var question = event.target.dataset && event.target.dataset.confirm;
    if (question && !window.confirm(question)) { event.preventDefault(); }
  }, true);
})();

// A refused form: the field the error names (data-field) is marked and focused; a new answer
// clears the marks.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function (event) {
    var form = event.target.closest ? document.querySelector("form[data-marks-fields]") : null;
    if (!form) { return; }
    form.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
    var named = event.target.querySelector("[data-field]");
    if (!named) { return; }
    var field = form.querySelector("[name='" + named.dataset.field + "']");
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  });
})();

// A form with a channel choice (SMS / e-mail, inputs marked data-channel) shows only the
// fields of the chosen one ([data-only="sms"|"mail"]); without script every field shows and
// the server takes those of the chosen channel.
(function () {
  "use strict";
  function apply(form) {
    var chosen = form.querySelector("input[data-channel]:checked, select[data-channel]");
    var value = chosen ? chosen.value : "sms";
    form.querySelectorAll("[data-only]").forEach(function (el) {
      el.hidden = el.dataset.only !== value;
    });
  }
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.dataset && el.dataset.channel !== undefined && el.form) { apply(el.form); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(function (form) {
      if (form.querySelector("[data-channel]")) { apply(form); }
    });
  });
})();
