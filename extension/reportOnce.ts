/**
 * Shows each distinct message once per session: a broken setting or a model that fails to load is
 * reported clearly, never in a loop on every keystroke.
 */
export class ReportOnce {
  private readonly seen = new Set<string>();
  constructor(private readonly show: (message: string) => void) {}

  report(message: string): boolean {
    if (this.seen.has(message)) return false;
    this.seen.add(message);
    this.show(message);
    return true;
  }

  /** Forget what was shown, e.g. after the user restarted the engine. */
  reset(): void {
    this.seen.clear();
  }
}
