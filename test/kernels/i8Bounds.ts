/**
 * How far precision 'i8' may stray from fp32 logits.
 *
 * Against the unquantized model the error is int8 weight rounding: per-row step max|w| / 127, so
 * rounding noise of step/sqrt(12), about 0.6% of a row's rms for Gaussian-like rows, in each of
 * the 5 quantized projections a token passes (2 layers x 2 + lm_head), then carried along by the
 * recurrence. Observed: ~1.3% relative rms on these models, 2.2% on the transformers fixture.
 * Bounds: 4% relative rms error over all logits, 5% of the logit scale at worst, and the greedy
 * token agrees at >= 95% of positions.
 */
export const I8_REL_RMS = 0.04;
export const I8_MAX_REL = 0.05;
export const I8_GREEDY = 0.95;
