/**
 * VS Code theme colours for the canvases, read from the CSS variables VS Code sets on the
 * webview's <html> (the stylesheet gives fallbacks). Re-read when the theme changes (VS Code
 * swaps body classes vscode-light / vscode-dark / vscode-high-contrast).
 */
export interface Theme {
  background: string;
  foreground: string;
  muted: string;
  border: string;
  focus: string;
  selection: string;
  /** two colours distinguishable with any colour-vision deficiency (blue / orange) */
  accentA: string;
  accentB: string;
  warning: string;
  font: string;
}

export function readTheme(el: Element = document.documentElement): Theme {
  const s = getComputedStyle(el);
  const v = (name: string, fallback: string): string => s.getPropertyValue(name).trim() || fallback;
  return {
    background: v('--sv-background', '#1e1e1e'),
    foreground: v('--sv-foreground', '#cccccc'),
    muted: v('--sv-muted', '#9d9d9d'),
    border: v('--sv-border', '#444444'),
    focus: v('--sv-focus', '#0078d4'),
    selection: v('--sv-selection', 'rgba(38,79,120,0.6)'),
    accentA: v('--sv-accent-a', '#3794ff'),
    accentB: v('--sv-accent-b', '#d18616'),
    warning: v('--sv-warning', '#cca700'),
    font: `11px ${v('--sv-font', 'system-ui, sans-serif')}`,
  };
}

export function onThemeChange(callback: () => void): void {
  new MutationObserver(callback).observe(document.body, { attributes: true, attributeFilter: ['class'] });
}
