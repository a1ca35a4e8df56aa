/** The short explanation panel: what the views show, in the model's own terms. */
const PARAGRAPHS: [string, string][] = [
  ['The state', 'A Mamba-2 layer carries a fixed-size state S per head instead of attending to every earlier token. At each token it updates S ← exp(dt·A)·S + dt·x·Bᵀ and reads y = S·C.'],
  ['dt (selectivity)', 'dt > 0 is computed from the token itself: the model chooses, token by token, how much to write. The heatmap shows log₁₀ dt for every layer and head.'],
  ['A', 'A < 0 is a learned constant per head: how fast that head forgets. |A|·dt is the forgetting at one token.'],
  ['Retention', 'exp(dt·A) is the share of the past state a head keeps at a token: near 1 the past is kept, near 0 it is wiped.'],
  ['Horizon', '1/(dt·|A|) tokens is the distance over which the past fades to 1/e at the current rate. The file-average grid uses 1/mean(dt·|A|).'],
  ['Filter', 'dt → 0 (here dt ≤ 0.001): the token barely enters the state and the past is kept unchanged: the head ignores this token (blue in the strip).'],
  ['Reset', 'large dt (here retention ≤ 5%): the head drops its past and rebuilds its state from this token, e.g. at the start of a new block (orange in the strip).'],
  ['Surprise, entropy', '−log p of each actual token and the entropy of the prediction made for it, in nats. Hover for that prediction\'s top-k candidates and the rank of the real token (1 = the model\'s first choice).'],
  ['Checkpoints', 'States the cache saved; an edit invalidates those after it, and a completion re-reads from the nearest valid one.'],
  ['Edit propagation', 'After an edit, how much each layer\'s state differs from before it, token by token: how far the edit is remembered.'],
  ['Keys', '←/→ token, Shift+←/→ 10 tokens, Home/End, PgUp/PgDn, ↑/↓ layer, Enter reveal in editor, Space lock tooltip, Esc release, +/− zoom, 0 fit.'],
];

export function explanationPanel(): HTMLElement {
  const details = document.createElement('details');
  details.className = 'explain';
  const summary = document.createElement('summary');
  summary.textContent = 'What am I looking at? (dt, A, retention, horizon, filter and reset)';
  const dl = document.createElement('dl');
  for (const [term, text] of PARAGRAPHS) {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = text;
    dl.append(dt, dd);
  }
  details.append(summary, dl);
  return details;
}
