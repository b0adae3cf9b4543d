import { useEffect, useState } from 'preact/hooks';
import { chooseTheme, followOtherTabs, storedTheme, THEME_CHOICES, type ThemeChoice } from '../model/theme.js';

/** System / Light / Dark; the choice applies at once and is kept for the next load. */
export function ThemeSwitch() {
  const [choice, setChoice] = useState<ThemeChoice>(storedTheme);
  useEffect(() => followOtherTabs(setChoice), []);
  return (
    <label class="theme-switch">
      Theme
      <select
        value={choice}
        onChange={(event) => {
          const next = event.currentTarget.value as ThemeChoice;
          chooseTheme(next);
          setChoice(next);
        }}
      >
        {THEME_CHOICES.map((c) => <option key={c.value} value={c.value}>{c.label}</option>)}
      </select>
    </label>
  );
}
