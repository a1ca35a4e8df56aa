/**
 * The state view's HTML: a strict Content-Security-Policy (nothing remote, no inline script or
 * style; the one script runs by nonce), the stylesheet and the bundled script. No `vscode`
 * import: the harness serves the very same page.
 */
export interface StateViewPageOptions {
  /** webview.cspSource in VS Code (the origin the webview's own resources come from) */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  /** extra scripts loaded before the view's own, with the same nonce (the test harness's bridge) */
  preludeScriptUris?: string[];
  /** extra stylesheets before the view's own (the harness's stand-in for VS Code's theme variables) */
  preludeStyleUris?: string[];
}

export function stateViewCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "connect-src 'none'",
    "frame-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** 32 random alphanumerics from the platform's CSPRNG */
export function makeNonce(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => chars[b % chars.length]).join('');
}

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

export function renderStateViewHtml(o: StateViewPageOptions): string {
  const scripts = [...(o.preludeScriptUris ?? []), o.scriptUri]
    .map((src) => `<script nonce="${attr(o.nonce)}" src="${attr(src)}"></script>`).join('\n  ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${attr(stateViewCsp(o.cspSource, o.nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  ${[...(o.preludeStyleUris ?? []), o.styleUri].map((href) => `<link rel="stylesheet" href="${attr(href)}">`).join('\n  ')}
  <title>Mamba state view</title>
</head>
<body>
  <main id="state-view"></main>
  ${scripts}
</body>
</html>`;
}
