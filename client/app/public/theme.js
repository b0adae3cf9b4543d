// Applies the theme chosen in the app (src/model/theme.ts, key "sealpost.theme") before the
// first paint: index.html loads this as a blocking classic script in <head>, so a page opened
// in the dark never flashes light. An external file, because the CSP allows no inline script.
// It also follows a choice made in another tab, whatever this tab shows (even "open elsewhere").
(function () {
  var KEY = 'sealpost.theme';
  var root = document.documentElement;
  function apply() {
    try {
      var theme = localStorage.getItem(KEY);
      if (theme === 'light' || theme === 'dark') root.dataset.theme = theme;
      else delete root.dataset.theme;
    } catch (e) {
      // Storage blocked: the system setting (prefers-color-scheme) applies.
    }
  }
  apply();
  window.addEventListener('storage', function (event) {
    if (event.key === KEY || event.key === null) apply();
  });
})();
