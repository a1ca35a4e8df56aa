import type { ModelShape } from './config.ts';

/**
 * One sequence's recurrent state: everything the model remembers of the tokens read so far.
 * Its size is fixed, whatever the length of the text behind it.
 *   conv: [layers, convDim, convKernel - 1]  the last inputs of the causal depthwise conv
 *   ssm:  [layers, heads, headDim, dState]   the selective SSM state
 */
export interface RecurrentState {
  conv: Float32Array;
  ssm: Float32Array;
}

export function emptyState(shape: ModelShape): RecurrentState {
  return {
    conv: new Float32Array(shape.layers * shape.convStatePerLayer),
    ssm: new Float32Array(shape.layers * shape.ssmStatePerLayer),
  };
}

export function cloneState(s: RecurrentState): RecurrentState {
  return { conv: s.conv.slice(), ssm: s.ssm.slice() };
}

export function stateBytes(shape: ModelShape): number {
  return 4 * shape.layers * (shape.convStatePerLayer + shape.ssmStatePerLayer);
}
