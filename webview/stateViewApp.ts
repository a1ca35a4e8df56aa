/**
 * The state view: builds the panel, receives notifications from the extension, and links the
 * tracks to each other (shared token axis, selection, hover, lock) and to the editor (cursor in,
 * revealToken out). Drawing is coalesced into one animation frame.
 */
import { command, type CommandMessage, type NotificationMessage, type StateViewNotifications } from './protocol.ts';
import { ViewData } from './data/viewData.ts';
import { Timeline } from './timeline.ts';
import { palette, type PaletteName } from './draw/palettes.ts';
import { readTheme, onThemeChange } from './draw/theme.ts';
import { GUTTER, type Track, type ViewContext, type TooltipLine } from './views/track.ts';
import { SelectivityTrack } from './views/selectivityTrack.ts';
import { RetentionTrack } from './views/retentionTrack.ts';
import { StateNormTrack } from './views/stateNormTrack.ts';
import { SurpriseTrack } from './views/surpriseTrack.ts';
import { CheckpointRail } from './views/checkpointRail.ts';
import { PropagationTrack } from './views/propagationTrack.ts';
import { HorizonGrid } from './views/horizonGrid.ts';
import { Tooltip, showToken, type TooltipContent } from './ui/tooltip.ts';
import { explanationPanel } from './ui/explanation.ts';

type Doc = StateViewNotifications['document'];

export class StateViewApp {
  private readonly timeline = new Timeline();
  private readonly view: ViewContext;
  private readonly tracks: Track[];
  private readonly selectivity: SelectivityTrack;
  private readonly stateNorm: StateNormTrack;
  private readonly rail: CheckpointRail;
  private readonly horizon: HorizonGrid;
  private readonly tooltip = new Tooltip();
  private readonly trackBox: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly titleEl: HTMLElement;
  private readonly infoEl: HTMLElement;
  private readonly statusEl: HTMLElement;
  private readonly liveEl: HTMLElement;
  private readonly layerSelect: HTMLSelectElement;
  private doc: Doc | null = null;
  private cursorOffset: number | null = null;
  private frame = 0;
  private lastPointer = { x: 0, y: 0 };
  private drag: { track: Track; startX: number; moved: boolean; pointerId: number } | null = null;

  constructor(root: HTMLElement, private readonly post: (m: CommandMessage) => void) {
    this.view = { timeline: this.timeline, data: null, theme: readTheme(), palette: palette('viridis'), secondary: palette('cividis') };
    this.selectivity = new SelectivityTrack(this.view);
    this.stateNorm = new StateNormTrack(this.view);
    this.rail = new CheckpointRail(this.view);
    this.tracks = [this.selectivity, new RetentionTrack(this.view), this.stateNorm, new SurpriseTrack(this.view), this.rail, new PropagationTrack(this.view)];
    this.horizon = new HorizonGrid(this.view);

    const header = el('header', 'bar');
    this.titleEl = el('span', 'title');
    this.titleEl.textContent = 'Mamba state view';
    this.infoEl = el('span', 'info');
    this.layerSelect = document.createElement('select');
    this.layerSelect.title = 'Layer shown by the retention track (↑/↓)';
    this.layerSelect.setAttribute('aria-label', 'layer');
    this.layerSelect.addEventListener('change', () => this.setLayer(Number(this.layerSelect.value)));
    const paletteSelect = document.createElement('select');
    paletteSelect.setAttribute('aria-label', 'palette');
    paletteSelect.title = 'Palette of the dt, horizon and propagation views (both are colour-blind safe)';
    for (const p of ['viridis', 'cividis']) paletteSelect.append(new Option(p, p));
    paletteSelect.addEventListener('change', () => {
      const main = paletteSelect.value as PaletteName;
      this.view.palette = palette(main);
      this.view.secondary = palette(main === 'viridis' ? 'cividis' : 'viridis');
      this.requestDraw();
    });
    const button = (label: string, title: string, f: () => void): HTMLButtonElement => {
      const b = document.createElement('button');
      b.textContent = label;
      b.title = title;
      b.addEventListener('click', f);
      return b;
    };
    const controls = el('span', 'controls');
    controls.append(
      this.layerSelect, paletteSelect,
      button('−', 'Zoom out (−)', () => this.zoom(1 / 1.5)),
      button('+', 'Zoom in (+)', () => this.zoom(1.5)),
      button('Fit', 'Whole file (0)', () => this.fit()),
      button('↻', 'Recompute diagnostics', () => this.post(command('refresh', {}))),
    );
    header.append(this.titleEl, this.infoEl, controls);
    this.statusEl = el('div', 'status');
    this.statusEl.setAttribute('role', 'status');

    this.trackBox = el('div', 'tracks');
    this.trackBox.tabIndex = 0;
    this.trackBox.setAttribute('role', 'application');
    this.trackBox.setAttribute('aria-label', 'Token tracks. Arrow keys move the selected token, up and down change the layer, Enter reveals it in the editor.');
    for (const t of this.tracks) this.trackBox.append(t.element);
    this.scroller = el('div', 'hscroll');
    this.spacer = el('div', 'spacer');
    this.scroller.append(this.spacer);
    this.liveEl = el('div', 'sr-only');
    this.liveEl.setAttribute('aria-live', 'polite');

    root.append(header, this.statusEl, explanationPanel(), this.trackBox, this.scroller, this.horizon.element, this.liveEl, this.tooltip.element);
    this.wire();
    this.setStatus('Waiting for diagnostics from the engine…', true);
  }

  // ---- notifications from the extension ----
  receive(message: NotificationMessage): void {
    switch (message.type) {
      case 'document':
        this.showDocument(message.params);
        break;
      case 'cursor':
        this.cursorOffset = message.params.offset;
        if (this.doc && message.params.uri === this.doc.uri && this.view.data) {
          const t = this.view.data.tokenAtOffset(message.params.offset);
          this.select(t, { reveal: false });
        }
        break;
      case 'status':
        this.setStatus(message.params.text, message.params.busy);
        break;
    }
  }

  private showDocument(doc: Doc): void {
    const sameFile = this.doc?.uri === doc.uri;
    this.doc = doc;
    const data = new ViewData(doc.diagnostics, doc.propagation);
    this.view.data = data;
    if (sameFile) {
      this.timeline.tokens = data.T;
      if (!this.timeline.locked) this.timeline.hover = null;
      this.timeline.ppt = Math.max(this.timeline.ppt, this.timeline.minPpt);
      this.timeline.clampScroll();
    } else {
      this.timeline.reset(data.T);
      this.timeline.layer = Math.min(this.timeline.layer, data.layers - 1);
    }
    this.layerSelect.replaceChildren(...Array.from({ length: data.layers }, (_, l) => new Option(`layer ${l}`, String(l))));
    this.layerSelect.value = String(this.timeline.layer);
    this.rail.completionToken = doc.lastCompletionOffset === null ? -1 : data.tokenAtOffset(doc.lastCompletionOffset);
    const d = doc.diagnostics;
    this.titleEl.textContent = doc.fileName;
    this.infoEl.textContent = `${data.T} tokens · ${d.layers} layers × ${d.heads} heads`;
    const [lo, hi] = data.logDtDomain;
    this.tracks[0].setLegend(`colour ${lo.toFixed(1)} … ${hi.toFixed(1)}; strip: heads filtering / resetting`);
    this.tracks[1].setLegend(`layer ${this.timeline.layer} (↑/↓); colour on a log scale of 1−r: 0 (dark) · 0.9 · 0.99 · 0.9999 (bright)`);
    const p = data.propagation;
    this.tracks[5].setLegend(p ? `${p.measure === 'state' ? '‖S′−S‖/‖S′‖ (exact)' : '|‖S′‖−‖S‖|/‖S′‖ (lower bound: norms only)'}, log₁₀ ${data.propagationDomain[0].toFixed(1)} … ${data.propagationDomain[1].toFixed(1)}; blank: no difference left` : '');
    this.tracks[2].setLegend('label: layer and its largest ‖S‖; each lane scaled to it');
    this.setStatus('', false);
    if (this.cursorOffset !== null && this.timeline.selected < 0) this.timeline.selected = data.tokenAtOffset(this.cursorOffset);
    if (this.timeline.selected >= data.T) this.timeline.selected = data.T - 1;
    this.layout();
  }

  private setStatus(text: string, busy: boolean): void {
    this.statusEl.textContent = text;
    this.statusEl.hidden = text === '';
    this.statusEl.classList.toggle('busy', busy);
  }

  // ---- selection ----
  private select(t: number, opts: { reveal: boolean }): void {
    const data = this.view.data;
    if (!data || data.T === 0 || t < 0) return;
    t = Math.max(0, Math.min(data.T - 1, t));
    this.timeline.selected = t;
    this.timeline.ensureVisible(t);
    const tok = data.diagnostics.tokens[t];
    this.liveEl.textContent = `token ${t} of ${data.T}: ${showToken(tok.text)}`;
    if (opts.reveal && this.doc) this.post(command('revealToken', { uri: this.doc.uri, offset: tok.start, endOffset: tok.end, tokenIndex: t }));
    if (this.timeline.locked) this.showTooltipFor(t, this.timeline.hover?.track ?? 'surprise', this.timeline.hover?.row ?? 0);
    this.syncScroller();
    this.requestDraw();
  }

  private setLayer(l: number): void {
    const data = this.view.data;
    if (!data) return;
    this.timeline.layer = Math.max(0, Math.min(data.layers - 1, l));
    this.layerSelect.value = String(this.timeline.layer);
    this.tracks[1].setLegend(`layer ${this.timeline.layer} (↑/↓); colour on a log scale of 1−r: 0 (dark) · 0.9 · 0.99 · 0.9999 (bright)`);
    this.requestDraw();
  }

  private zoom(f: number, anchor?: number): void {
    this.timeline.zoom(f, anchor);
    this.syncScroller();
    this.requestDraw();
  }

  private fit(): void {
    this.timeline.fit();
    this.syncScroller();
    this.requestDraw();
  }

  // ---- drawing ----
  private layout(): void {
    const w = this.trackBox.clientWidth;
    this.timeline.setWidth(w - GUTTER);
    for (const t of this.tracks) t.layout(w);
    this.horizon.layout(w);
    this.spacer.style.width = `${GUTTER + this.timeline.contentWidth}px`;
    this.syncScroller();
    this.requestDraw();
  }

  private syncScroller(): void {
    this.spacer.style.width = `${GUTTER + this.timeline.contentWidth}px`;
    if (Math.abs(this.scroller.scrollLeft - this.timeline.scroll) > 0.5) this.scroller.scrollLeft = this.timeline.scroll;
  }

  requestDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.drawNow();
    });
  }

  /** draws every view at once (the harness times this) */
  drawNow(): void {
    for (const t of this.tracks) t.draw();
    this.horizon.draw();
  }

  // ---- tooltip ----
  private showTooltipFor(t: number, trackId: string, row: number): void {
    const data = this.view.data;
    if (!data) return;
    const tok = data.diagnostics.tokens[t];
    const track = this.tracks.find((x) => x.id === trackId);
    const lines: TooltipLine[] = [...(track?.describe(t, row) ?? [])];
    if (trackId !== 'surprise') lines.push(...this.tracks[3].describe(t, 0).slice(0, 1));
    const content: TooltipContent = { title: `#${t} ${showToken(tok.text)}  [${tok.start}, ${tok.end})`, lines, locked: this.timeline.locked };
    const d = data.diagnostics;
    // topK[t] / actualRank[t]: the prediction made for token t and the 0-based rank of the real token in it
    if (d.topK[t]?.length) {
      const rank = d.actualRank[t];
      content.topK = {
        caption: `model's top-${d.topK[t].length} for this position${rank >= 0 ? `; the real token ranked ${rank + 1}` : ''}`,
        entries: d.topK[t].map((e) => ({ ...e, actual: e.text === tok.text })),
      };
    }
    this.tooltip.show(content, this.lastPointer.x, this.lastPointer.y);
  }

  // ---- events ----
  private wire(): void {
    new ResizeObserver(() => this.layout()).observe(this.trackBox);
    onThemeChange(() => {
      this.view.theme = readTheme();
      this.requestDraw();
    });
    this.scroller.addEventListener('scroll', () => {
      this.timeline.scroll = this.scroller.scrollLeft;
      this.timeline.clampScroll();
      this.requestDraw();
    });

    for (const track of this.tracks) {
      const c = track.canvas;
      const at = (e: PointerEvent | MouseEvent): { t: number; row: number } => {
        const r = c.getBoundingClientRect();
        const x = e.clientX - r.left - GUTTER;
        return { t: x < 0 ? -1 : this.timeline.tokenAt(x), row: track.rowAt(e.clientY - r.top) };
      };
      c.addEventListener('pointermove', (e) => {
        this.lastPointer = { x: e.clientX, y: e.clientY };
        const { t, row } = at(e);
        if (this.drag && this.drag.track === track) {
          if (Math.abs(e.clientX - this.drag.startX) > 3) this.drag.moved = true;
          if (this.drag.moved && track === this.stateNorm && t >= 0) this.select(t, { reveal: false });
          return;
        }
        if (this.timeline.locked) return;
        this.timeline.hover = t >= 0 ? { token: t, track: track.id, row } : null;
        if (t >= 0) this.showTooltipFor(t, track.id, row);
        else this.tooltip.hide();
        this.requestDraw();
      });
      c.addEventListener('pointerleave', () => {
        if (this.timeline.locked || this.drag) return;
        this.timeline.hover = null;
        this.tooltip.hide();
        this.requestDraw();
      });
      c.addEventListener('pointerdown', (e) => {
        if (e.button !== 0) return;
        c.setPointerCapture(e.pointerId);
        this.drag = { track, startX: e.clientX, moved: false, pointerId: e.pointerId };
      });
      c.addEventListener('pointerup', (e) => {
        const drag = this.drag;
        this.drag = null;
        if (!drag || drag.track !== track) return;
        c.releasePointerCapture(e.pointerId);
        this.lastPointer = { x: e.clientX, y: e.clientY };
        const { t, row } = at(e);
        if (drag.moved) {
          // scrubber released: the editor follows
          if (track === this.stateNorm && t >= 0) this.select(t, { reveal: true });
          return;
        }
        this.click(track, t, row);
      });
      c.addEventListener('wheel', (e) => {
        if (e.ctrlKey || e.metaKey) {
          e.preventDefault();
          this.zoom(e.deltaY < 0 ? 1.25 : 0.8, e.clientX - c.getBoundingClientRect().left - GUTTER);
        } else if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
          e.preventDefault();
          this.timeline.scroll += e.shiftKey ? e.deltaY : e.deltaX;
          this.timeline.clampScroll();
          this.syncScroller();
          this.requestDraw();
        }
      }, { passive: false });
    }

    const hc = this.horizon.canvas;
    hc.addEventListener('pointermove', (e) => {
      this.lastPointer = { x: e.clientX, y: e.clientY };
      if (this.timeline.locked) return;
      const r = hc.getBoundingClientRect();
      const hit = this.horizon.hit(e.clientX - r.left, e.clientY - r.top);
      if (hit) this.tooltip.show({ title: hit.grid === 'token' ? 'Horizon at the selected token' : 'Horizon averaged over the file', lines: this.horizon.describe(hit), locked: false }, e.clientX, e.clientY);
      else this.tooltip.hide();
    });
    hc.addEventListener('pointerleave', () => {
      if (!this.timeline.locked) this.tooltip.hide();
    });
    hc.addEventListener('click', (e) => {
      const r = hc.getBoundingClientRect();
      const hit = this.horizon.hit(e.clientX - r.left, e.clientY - r.top);
      if (hit) this.setLayer(hit.layer);
    });

    this.trackBox.addEventListener('keydown', (e) => this.key(e));
  }

  private click(track: Track, t: number, row: number): void {
    if (t < 0) return;
    const tl = this.timeline;
    if (tl.locked && t === tl.selected) {
      tl.locked = false;
      this.tooltip.hide();
      this.requestDraw();
      return;
    }
    if (track === this.selectivity && row >= 0) this.setLayer(this.selectivity.layerOfRow(row));
    tl.locked = true;
    tl.hover = { token: t, track: track.id, row };
    this.trackBox.focus({ preventScroll: true });
    this.select(t, { reveal: true });
  }

  private key(e: KeyboardEvent): void {
    const data = this.view.data;
    if (!data || data.T === 0) return;
    const tl = this.timeline;
    const cur = Math.max(0, tl.selected);
    const page = Math.max(1, Math.floor(tl.width / tl.ppt));
    const moves: Record<string, number> = {
      ArrowLeft: cur - (e.shiftKey ? 10 : 1), ArrowRight: cur + (e.shiftKey ? 10 : 1),
      Home: 0, End: data.T - 1, PageUp: cur - page, PageDown: cur + page,
    };
    if (e.key in moves) {
      e.preventDefault();
      // the keyboard takes over from the pointer: views that follow the hover follow the selection
      if (!tl.locked) tl.hover = null;
      if (tl.locked) {
        const c = this.trackBox.getBoundingClientRect();
        this.lastPointer = { x: c.left + GUTTER + tl.xOf(Math.max(0, Math.min(data.T - 1, moves[e.key]))), y: c.top + 40 };
      }
      this.select(moves[e.key], { reveal: false });
      return;
    }
    switch (e.key) {
      case 'ArrowUp':
      case 'ArrowDown':
        e.preventDefault();
        this.setLayer(tl.layer + (e.key === 'ArrowUp' ? -1 : 1));
        return;
      case 'Enter':
        e.preventDefault();
        this.select(cur, { reveal: true });
        return;
      case ' ': {
        e.preventDefault();
        tl.locked = !tl.locked;
        if (tl.locked) {
          const c = this.trackBox.getBoundingClientRect();
          this.lastPointer = { x: c.left + GUTTER + tl.xOf(cur), y: c.top + 40 };
          tl.hover = { token: cur, track: 'surprise', row: 0 };
          this.showTooltipFor(cur, 'surprise', 0);
        } else this.tooltip.hide();
        this.requestDraw();
        return;
      }
      case 'Escape':
        tl.locked = false;
        this.tooltip.hide();
        this.requestDraw();
        return;
      case '+':
      case '=':
        this.zoom(1.5, tl.xOf(cur));
        return;
      case '-':
        this.zoom(1 / 1.5, tl.xOf(cur));
        return;
      case '0':
        this.fit();
        return;
    }
  }
}

function el(tag: string, className: string): HTMLElement {
  const e = document.createElement(tag);
  e.className = className;
  return e;
}
