/**
 * The hover tooltip: built with textContent only (token texts come from the user's file, so no
 * markup is ever parsed from them). Click-to-lock keeps it in place.
 */
import type { TooltipLine } from '../views/track.ts';

export interface TooltipContent {
  title: string;
  lines: TooltipLine[];
  /** the model's top-k for this position, the actual token marked */
  topK?: { caption: string; entries: { text: string; p: number; actual: boolean }[] };
  locked: boolean;
}

export class Tooltip {
  readonly element: HTMLElement;

  constructor() {
    this.element = document.createElement('div');
    this.element.className = 'tooltip';
    this.element.setAttribute('role', 'tooltip');
    this.element.hidden = true;
  }

  show(content: TooltipContent, clientX: number, clientY: number): void {
    const el = this.element;
    el.replaceChildren();
    el.classList.toggle('locked', content.locked);
    const title = document.createElement('div');
    title.className = 'tt-title';
    title.textContent = content.title + (content.locked ? '  (locked: click or Esc to release)' : '');
    el.append(title);
    if (content.lines.length) {
      const dl = document.createElement('dl');
      for (const [k, v] of content.lines) {
        const dt = document.createElement('dt');
        dt.textContent = k;
        const dd = document.createElement('dd');
        dd.textContent = v;
        dl.append(dt, dd);
      }
      el.append(dl);
    }
    if (content.topK) {
      const cap = document.createElement('div');
      cap.className = 'tt-caption';
      cap.textContent = content.topK.caption;
      const ol = document.createElement('ol');
      ol.className = 'topk';
      for (const e of content.topK.entries) {
        const li = document.createElement('li');
        if (e.actual) li.className = 'actual';
        const code = document.createElement('code');
        code.textContent = showToken(e.text);
        const p = document.createElement('span');
        p.className = 'p';
        p.textContent = `${(e.p * 100).toFixed(e.p < 0.01 ? 3 : 1)}%`;
        li.append(code, p);
        ol.append(li);
      }
      el.append(cap, ol);
    }
    el.hidden = false;
    // keep it inside the viewport, preferring below-right of the pointer
    const r = el.getBoundingClientRect();
    const x = clientX + 14 + r.width > window.innerWidth ? Math.max(4, clientX - 14 - r.width) : clientX + 14;
    const y = clientY + 14 + r.height > window.innerHeight ? Math.max(4, clientY - 14 - r.height) : clientY + 14;
    el.style.left = `${x}px`;
    el.style.top = `${y}px`;
  }

  hide(): void {
    this.element.hidden = true;
  }
}

/** a token's text with whitespace made visible */
export function showToken(text: string): string {
  return text.replace(/\n/g, '↵').replace(/\t/g, '→').replace(/ /g, '·') || '∅';
}
