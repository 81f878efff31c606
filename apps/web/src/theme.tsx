/** Light, dark or the system's choice (prefers-color-scheme); the choice is kept in localStorage. */
import { useState } from "preact/hooks";

type Theme = "system" | "light" | "dark";
const KEY = "vigil.theme";
const next: Record<Theme, Theme> = { system: "light", light: "dark", dark: "system" };

function apply(theme: Theme) {
  if (theme === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

export function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem(KEY) as Theme | null) ?? "system");
  const change = () => {
    const chosen = next[theme];
    if (chosen === "system") localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, chosen);
    apply(chosen);
    setTheme(chosen);
  };
  return (
    <button type="button" class="ghost" onClick={change} title="Change theme">
      Theme: {theme === "system" ? "auto" : theme}
    </button>
  );
}
