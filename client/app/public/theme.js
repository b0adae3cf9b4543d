// Applies the theme chosen in the app (src/model/theme.ts, key "sealpost.theme") before the
// first paint: index.html loads this as a blocking classic script in <head>, so a page opened
// in the dark never flashes light. An external file, because the CSP allows no inline script.
try {
  var theme = localStorage.getItem('sealpost.theme');
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
} catch (e) {
  // Storage blocked: the system setting (prefers-color-scheme) applies.
}
