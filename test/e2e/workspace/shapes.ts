// A small TypeScript module for the end-to-end tests: the editor types at the end of it.
export interface Point {
  x: number;
  y: number;
}

export interface Rect {
  origin: Point;
  width: number;
  height: number;
}

export function area(r: Rect): number {
  return r.width * r.height;
}

export function contains(r: Rect, p: Point): boolean {
  return p.x >= r.origin.x && p.x <= r.origin.x + r.width && p.y >= r.origin.y && p.y <= r.origin.y + r.height;
}

export function translate(r: Rect, dx: number, dy: number): Rect {
  return { origin: { x: r.origin.x + dx, y: r.origin.y + dy }, width: r.width, height: r.height };
}

export function union(a: Rect, b: Rect): Rect {
  const x = Math.min(a.origin.x, b.origin.x);
  const y = Math.min(a.origin.y, b.origin.y);
  const right = Math.max(a.origin.x + a.width, b.origin.x + b.width);
  const bottom = Math.max(a.origin.y + a.height, b.origin.y + b.height);
  return { origin: { x, y }, width: right - x, height: bottom - y };
}

