/**
 * The colour theme: "system" follows prefers-color-scheme (the CSS does that by itself), "light"
 * and "dark" override it. The choice lives in localStorage, not in the profile's IndexedDB,
 * because public/theme.js must read it synchronously before the first paint, before this
 * bundle (or any profile) has loaded; a flash of the wrong theme is what it prevents.
 */
export type ThemeChoice = 'system' | 'light' | 'dark';

export const THEME_CHOICES: ReadonlyArray<{ value: ThemeChoice; label: string }> = [
  { value: 'system', label: 'System' },
  { value: 'light', label: 'Light' },
  { value: 'dark', label: 'Dark' },
];

/** Also read by public/theme.js: keep the two in step. */
export const THEME_KEY = 'sealpost.theme';

function parse(value: string | null): ThemeChoice {
  return value === 'light' || value === 'dark' ? value : 'system';
}

export function storedTheme(): ThemeChoice {
  try {
    return parse(localStorage.getItem(THEME_KEY));
  } catch {
    return 'system'; // storage blocked (a privacy mode): the system setting still applies
  }
}

/** Shows `choice` now (styles.css keys off data-theme on <html>). */
export function applyTheme(choice: ThemeChoice): void {
  const root = document.documentElement;
  if (choice === 'system') delete root.dataset.theme;
  else root.dataset.theme = choice;
}

/** Remembers `choice` for the next load (and other tabs) and shows it. */
export function chooseTheme(choice: ThemeChoice): void {
  try {
    if (choice === 'system') localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, choice);
  } catch {
    // Not remembered; it still applies to this page.
  }
  applyTheme(choice);
}

/** Another tab changed the theme (public/theme.js applies it in every tab): keep a switch in step. Returns the unsubscribe. */
export function followOtherTabs(onChange: (choice: ThemeChoice) => void): () => void {
  const listener = (event: StorageEvent) => {
    if (event.key !== THEME_KEY && event.key !== null) return; // null: storage cleared
    const choice = parse(event.newValue);
    applyTheme(choice);
    onChange(choice);
  };
  window.addEventListener('storage', listener);
  return () => window.removeEventListener('storage', listener);
}
