// Gallery filters: every card carries data-iteration/task/verdict/reason/band; a card is
// shown when it matches every selector. Plain JS, no libraries, works from file://.
(function () {
  "use strict";
  var form = document.getElementById("gallery-filters");
  if (!form) { return; }
  var selects = Array.prototype.slice.call(form.querySelectorAll("select[data-filter]"));
  var cards = Array.prototype.slice.call(document.querySelectorAll(".sample-card"));
  var counter = document.getElementById("gallery-count");
  var empty = document.getElementById("gallery-empty");

  function matches(card, name, value) {
    if (!value) { return true; }
    if (name === "verdict" && value.indexOf("reason:") === 0) {
      return card.dataset.reason === value.slice("reason:".length);
    }
    return card.dataset[name] === value;
  }

  function apply() {
    var shown = 0;
    cards.forEach(function (card) {
      var visible = selects.every(function (s) { return matches(card, s.dataset.filter, s.value); });
      card.hidden = !visible;
      if (visible) { shown += 1; }
    });
    counter.textContent = shown === cards.length
      ? cards.length + " shown"
      : shown + " of " + cards.length + " shown";
    empty.hidden = shown > 0;
    return shown;
  }

  selects.forEach(function (s) { s.addEventListener("change", apply); });
  document.getElementById("filter-reset").addEventListener("click", function () {
    selects.forEach(function (s) { s.value = ""; });
    apply();
  });
  apply();
})();
