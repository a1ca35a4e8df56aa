/** Command ids, declared once (package.json contributes.commands lists the same ids). */
export const COMMANDS = {
  toggle: 'mambaComplete.toggle',
  summarizeFile: 'mambaComplete.summarizeFile',
  /** registered by the state view (extension/stateView), referenced here by id only */
  showStateView: 'mambaComplete.showStateView',
  clearCaches: 'mambaComplete.clearCaches',
  showEngineInfo: 'mambaComplete.showEngineInfo',
  restartEngine: 'mambaComplete.restartEngine',
  showActions: 'mambaComplete.showActions',
  openSettings: 'mambaComplete.openSettings',
} as const;
