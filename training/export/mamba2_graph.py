"""The Mamba-2 language model as two ONNX graphs over one set of weights.

Per layer (names as in the Mamba-2 paper and Hugging Face's Mamba2Mixer):
    u = RMSNorm(h);  [z | xBC | dt] = in_proj(u)
    xBC = SiLU(causal depthwise conv(xBC));  [x | B | C] = xBC
    dt = softplus(dt + dt_bias);  A = -exp(A_log)               (one scalar A per head)
    state_t = exp(dt_t A) state_{t-1} + dt_t x_t B_t^T;  y_t = state_t C_t + D x_t
    h = h + out_proj(GatedRMSNorm(y, z))

`prefill` evaluates the recurrence with the chunked SSD algorithm (ssd_minimal.py of the Mamba
authors): matmuls inside chunks of Lc tokens, a short recurrence across chunks. `step` evaluates
it for one token in the recurrent form. Both read the same initializers (external data in
weights.bin).
"""
import numpy as np
from onnx import TensorProto

from onnx_builder import GraphBuilder

F32 = TensorProto.FLOAT
I32 = TensorProto.INT32
I64 = TensorProto.INT64
NEG_INF = -1e30  # exp() of it is exactly 0 in f32, and it stays finite under subtraction


def _as_float(v):
    """transformers 5 writes infinity in config.json as an object or a string; anything that is not
    a number is taken as unbounded."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("inf")


class Dims:
    def __init__(self, cfg):
        self.L = cfg["num_hidden_layers"]
        self.D = cfg["hidden_size"]
        self.H = cfg["num_heads"]
        self.P = cfg["head_dim"]
        self.N = cfg["state_size"]
        self.G = cfg["n_groups"]
        self.K = cfg["conv_kernel"]
        self.V = cfg["vocab_size"]
        self.eps = float(cfg.get("layer_norm_epsilon", 1e-5))
        self.CS = int(cfg.get("chunk_size", 256))
        self.d_inner = self.H * self.P
        self.conv_dim = self.d_inner + 2 * self.G * self.N
        self.hg = self.H // self.G  # heads per group
        self.norm_group = int(cfg.get("norm_group_size") or self.d_inner)
        lo, hi = (_as_float(v) for v in cfg.get("time_step_limit", (0.0, float("inf"))))
        self.dt_limit = (lo, hi) if (lo > 0 or hi < 3e38) else None


class WeightRefs:
    """Maps a Hugging Face tensor name to an f32 tensor inside the graph, dequantizing stored
    f16/i8 weights with nodes onnxruntime folds into constants when the session loads."""

    def __init__(self, g, layout):
        self.g = g
        self.layout = layout  # name -> (dtype, shape, offset, length)
        self.cache = {}

    def __call__(self, name):
        if name in self.cache:
            return self.cache[name]
        dtype, shape, offset, length = self.layout[name]
        elem = {"f32": F32, "f16": TensorProto.FLOAT16, "i8": TensorProto.INT8}[dtype]
        stored = self.g.add_external_initializer(name, elem, shape, "weights.bin", offset, length)
        if dtype == "f32":
            out = stored
        elif dtype == "f16":
            out = self.g.op("Cast", stored, to=F32)
        else:
            sdt, sshape, soff, slen = self.layout[name + ".scale"]
            scale = self.g.add_external_initializer(name + ".scale", F32, sshape, "weights.bin", soff, slen)
            out = self.g.op("Mul", self.g.op("Cast", stored, to=F32), self.g.op("Unsqueeze", scale, self.g.i64(1)))
        self.cache[name] = out
        return out

    def transposed(self, name):
        key = name + "^T"
        if key not in self.cache:
            self.cache[key] = self.g.op("Transpose", self(name), perm=[1, 0])
        return self.cache[key]


def rms_norm(g, x, weight, eps):
    ms = g.op("ReduceMean", g.op("Mul", x, x), axes=[-1], keepdims=1)
    return g.op("Mul", g.op("Mul", x, g.op("Reciprocal", g.op("Sqrt", g.op("Add", ms, g.const(eps))))), weight)


def silu(g, x):
    return g.op("Mul", x, g.op("Sigmoid", x))


def gated_rms_norm(g, y, z, weight, d, lead_shape):
    """RMSNorm(y * SiLU(z)) over groups of d.norm_group channels. transformers' MambaRMSNormGated
    normalizes over all of d_inner (norm_group == d_inner); mamba_ssm groups per n_groups."""
    v = g.op("Mul", y, silu(g, z))
    if d.norm_group != d.d_inner:
        v = g.op("Reshape", v, g.i64(*lead_shape, d.d_inner // d.norm_group, d.norm_group))
        v = rms_norm(g, v, g.const(1.0), d.eps)
        v = g.op("Reshape", v, g.i64(*lead_shape, d.d_inner))
        return g.op("Mul", v, weight)
    return rms_norm(g, v, weight, d.eps)


def dt_softplus(g, dt_raw, dt_bias, d):
    dt = g.op("Softplus", g.op("Add", dt_raw, dt_bias))
    if d.dt_limit:
        dt = g.op("Clip", dt, g.const(d.dt_limit[0]), g.const(min(d.dt_limit[1], 3.4e38)))
    return dt


def split_in_proj(g, zxbcdt, d):
    return g.op("Split", zxbcdt, g.i64(d.d_inner, d.conv_dim, d.H), axis=-1, n_out=3)


def segsum_mask(g, cum, n):
    """exp-ready segment sums over the last axis (length n, a [1] int64 tensor):
    out[..., i, j] = cum[..., i] - cum[..., j] for i >= j, else -inf."""
    diff = g.op("Sub", g.op("Unsqueeze", cum, g.i64(-1)), g.op("Unsqueeze", cum, g.i64(-2)))
    idx = g.op("Range", g.const(0, np.int64), g.op("Squeeze", n, g.i64(0)), g.const(1, np.int64))
    lower = g.op("GreaterOrEqual", g.op("Unsqueeze", idx, g.i64(-1)), g.op("Unsqueeze", idx, g.i64(0)))
    return g.op("Where", lower, diff, g.const(NEG_INF))


def prefill_mixer(g, w, d, h, conv_state, ssm_state, li, T, nc, Lc):
    """One Mamba-2 mixer over a [1, T, D] block of tokens, T = nc * Lc. Returns (out, conv_state,
    ssm_state, dt)."""
    P = f"backbone.layers.{li}.mixer."
    u = rms_norm(g, h, w(f"backbone.layers.{li}.norm.weight"), d.eps)
    z, xbc, dt_raw = split_in_proj(g, g.op("MatMul", u, w.transposed(P + "in_proj.weight")), d)

    # causal depthwise conv over [conv_state | xBC] along time; its last K-1 inputs are the new state
    xbc_ct = g.op("Transpose", xbc, perm=[0, 2, 1])  # [1, conv_dim, T]
    padded = g.op("Concat", conv_state, xbc_ct, axis=2)  # [1, conv_dim, K-1+T]
    new_conv = g.op("Slice", padded, g.i64(-(d.K - 1)), g.i64(2**62), g.i64(2))
    conv = g.op("Conv", padded, w(P + "conv1d.weight"), w(P + "conv1d.bias"), group=d.conv_dim, kernel_shape=[d.K])
    xbc = g.op("Transpose", silu(g, conv), perm=[0, 2, 1])  # [1, T, conv_dim]
    x, Bm, Cm = g.op("Split", xbc, g.i64(d.d_inner, d.G * d.N, d.G * d.N), axis=-1, n_out=3)

    dt = dt_softplus(g, dt_raw, w(P + "dt_bias"), d)  # [1, T, H]
    A = g.op("Neg", g.op("Exp", w(P + "A_log")))  # [H]

    # chunked layout: [1, G, hg, nc, Lc, *] for per-head tensors, [1, G, 1, nc, Lc, N] for B and C
    x6 = g.op("Transpose", g.op("Reshape", x, g.op("Concat", g.i64(1), nc, Lc, g.i64(d.G, d.hg, d.P), axis=0)), perm=[0, 3, 4, 1, 2, 5])
    dt5 = g.op("Transpose", g.op("Reshape", dt, g.op("Concat", g.i64(1), nc, Lc, g.i64(d.G, d.hg), axis=0)), perm=[0, 3, 4, 1, 2])
    B6 = g.op("Unsqueeze", g.op("Transpose", g.op("Reshape", Bm, g.op("Concat", g.i64(1), nc, Lc, g.i64(d.G, d.N), axis=0)), perm=[0, 3, 1, 2, 4]), g.i64(2))
    C6 = g.op("Unsqueeze", g.op("Transpose", g.op("Reshape", Cm, g.op("Concat", g.i64(1), nc, Lc, g.i64(d.G, d.N), axis=0)), perm=[0, 3, 1, 2, 4]), g.i64(2))
    A5 = g.op("Reshape", A, g.i64(1, d.G, d.hg, 1, 1))
    Adt = g.op("Mul", dt5, A5)  # [1, G, hg, nc, Lc]
    Acs = g.op("CumSum", Adt, g.const(-1, np.int64))  # [1, G, hg, nc, Lc]
    X = g.op("Mul", x6, g.op("Unsqueeze", dt5, g.i64(-1)))  # dt * x: [1, G, hg, nc, Lc, P]

    # 1. intra-chunk (diagonal blocks): y = (C B^T ∘ L) X with L[l, s] = exp(Acs_l - Acs_s), l >= s
    Lmat = g.op("Exp", segsum_mask(g, Acs, Lc))  # [1, G, hg, nc, Lc, Lc]
    CB = g.op("MatMul", C6, g.op("Transpose", B6, perm=[0, 1, 2, 3, 5, 4]))  # [1, G, 1, nc, Lc, Lc]
    y_diag = g.op("MatMul", g.op("Mul", CB, Lmat), X)  # [1, G, hg, nc, Lc, P]

    # 2. chunk states: each chunk's contribution to the state at its end
    A_last = g.op("Slice", Acs, g.i64(-1), g.i64(2**62), g.i64(-1))  # [1, G, hg, nc, 1]
    decay_to_end = g.op("Exp", g.op("Sub", A_last, Acs))  # [1, G, hg, nc, Lc]
    Xd = g.op("Mul", X, g.op("Unsqueeze", decay_to_end, g.i64(-1)))
    states = g.op("MatMul", g.op("Transpose", Xd, perm=[0, 1, 2, 3, 5, 4]), B6)  # [1, G, hg, nc, P, N]

    # 3. inter-chunk recurrence: state at each chunk start, from the initial state and earlier chunks
    s0 = g.op("Reshape", ssm_state, g.i64(1, d.G, d.hg, 1, d.P * d.N))
    states_flat = g.op("Reshape", states, g.op("Concat", g.i64(1, d.G, d.hg), nc, g.i64(d.P * d.N), axis=0))
    all_states = g.op("Concat", s0, states_flat, axis=3)  # [1, G, hg, nc+1, P*N]
    chunk_A = g.op("Pad", g.op("Squeeze", A_last, g.i64(-1)), g.i64(0, 0, 0, 1, 0, 0, 0, 0))  # [1, G, hg, nc+1]
    chunk_cum = g.op("CumSum", chunk_A, g.const(-1, np.int64))
    nc1 = g.op("Add", nc, g.i64(1))
    decay_chunk = g.op("Exp", segsum_mask(g, chunk_cum, nc1))  # [1, G, hg, nc+1, nc+1]
    new_states = g.op("MatMul", decay_chunk, all_states)  # [1, G, hg, nc+1, P*N]
    starts = g.op("Slice", new_states, g.i64(0), g.i64(-1), g.i64(3))
    final = g.op("Slice", new_states, g.i64(-1), g.i64(2**62), g.i64(3))
    new_ssm = g.op("Reshape", final, g.i64(1, d.H, d.P, d.N))

    # 4. state -> output: y_off[l] = exp(Acs_l) C_l · state_at_chunk_start
    starts6 = g.op("Reshape", starts, g.op("Concat", g.i64(1, d.G, d.hg), nc, g.i64(d.P, d.N), axis=0))
    y_off = g.op("MatMul", C6, g.op("Transpose", starts6, perm=[0, 1, 2, 3, 5, 4]))  # [1, G, hg, nc, Lc, P]
    y_off = g.op("Mul", y_off, g.op("Unsqueeze", g.op("Exp", Acs), g.i64(-1)))

    y = g.op("Add", y_diag, y_off)
    y = g.op("Reshape", g.op("Transpose", y, perm=[0, 3, 4, 1, 2, 5]), g.op("Concat", g.i64(1), T, g.i64(d.d_inner), axis=0))
    y = g.op("Add", y, g.op("Mul", x, g.op("Reshape", g.op("Expand", g.op("Unsqueeze", w(P + "D"), g.i64(-1)), g.i64(d.H, d.P)), g.i64(d.d_inner))))
    y = gated_rms_norm(g, y, z, w(P + "norm.weight"), d, (1, -1))
    out = g.op("Add", h, g.op("MatMul", y, w.transposed(P + "out_proj.weight")))
    return out, new_conv, new_ssm, dt


def step_mixer(g, w, d, h, conv_state, ssm_state, li):
    """One Mamba-2 mixer for one token [1, D], in the recurrent form."""
    P = f"backbone.layers.{li}.mixer."
    u = rms_norm(g, h, w(f"backbone.layers.{li}.norm.weight"), d.eps)
    z, xbc, dt_raw = split_in_proj(g, g.op("MatMul", u, w.transposed(P + "in_proj.weight")), d)

    window = g.op("Concat", conv_state, g.op("Unsqueeze", xbc, g.i64(-1)), axis=2)  # [1, conv_dim, K]
    new_conv = g.op("Slice", window, g.i64(1), g.i64(2**62), g.i64(2))
    kernel = g.op("Reshape", w(P + "conv1d.weight"), g.i64(1, d.conv_dim, d.K))
    conv = g.op("Add", g.op("ReduceSum", g.op("Mul", window, kernel), g.i64(-1), keepdims=0), w(P + "conv1d.bias"))
    xbc = silu(g, conv)  # [1, conv_dim]
    x, Bm, Cm = g.op("Split", xbc, g.i64(d.d_inner, d.G * d.N, d.G * d.N), axis=-1, n_out=3)

    dt = dt_softplus(g, dt_raw, w(P + "dt_bias"), d)  # [1, H]
    A = g.op("Neg", g.op("Exp", w(P + "A_log")))
    dA = g.op("Reshape", g.op("Exp", g.op("Mul", dt, A)), g.i64(1, d.G, d.hg, 1, 1))
    x5 = g.op("Reshape", x, g.i64(1, d.G, d.hg, d.P, 1))
    dtx = g.op("Mul", x5, g.op("Reshape", dt, g.i64(1, d.G, d.hg, 1, 1)))
    B5 = g.op("Reshape", Bm, g.i64(1, d.G, 1, 1, d.N))
    C5 = g.op("Reshape", Cm, g.i64(1, d.G, 1, d.N, 1))
    S = g.op("Reshape", ssm_state, g.i64(1, d.G, d.hg, d.P, d.N))
    S = g.op("Add", g.op("Mul", dA, S), g.op("Mul", dtx, B5))  # state = exp(dt A) state + dt x B^T
    y = g.op("MatMul", S, C5)  # [1, G, hg, P, 1]
    y = g.op("Reshape", y, g.i64(1, d.d_inner))
    y = g.op("Add", y, g.op("Mul", x, g.op("Reshape", g.op("Expand", g.op("Unsqueeze", w(P + "D"), g.i64(-1)), g.i64(d.H, d.P)), g.i64(d.d_inner))))
    y = gated_rms_norm(g, y, z, w(P + "norm.weight"), d, (1,))
    out = g.op("Add", h, g.op("MatMul", y, w.transposed(P + "out_proj.weight")))
    return out, new_conv, g.op("Reshape", S, g.i64(1, d.H, d.P, d.N)), dt


def lm_head(g, w, d, h):
    hn = rms_norm(g, h, w("backbone.norm_f.weight"), d.eps)
    return g.op("MatMul", hn, w.transposed("backbone.embeddings.weight"))


def _state_io(g, d):
    conv_in = g.add_input("conv_state", F32, [d.L, 1, d.conv_dim, d.K - 1])
    ssm_in = g.add_input("ssm_state", F32, [d.L, 1, d.H, d.P, d.N])
    conv_layers = g.op("Split", conv_in, g.i64(*[1] * d.L), axis=0, n_out=d.L) if d.L > 1 else [conv_in]
    ssm_layers = g.op("Split", ssm_in, g.i64(*[1] * d.L), axis=0, n_out=d.L) if d.L > 1 else [ssm_in]
    return [g.op("Squeeze", c, g.i64(0)) for c in conv_layers], [g.op("Squeeze", s, g.i64(0)) for s in ssm_layers]


def _state_out(g, d, convs, ssms, dts, t_dim):
    g.add_output(g.op("Concat", *[g.op("Unsqueeze", c, g.i64(0)) for c in convs], axis=0), "conv_state_out", F32, [d.L, 1, d.conv_dim, d.K - 1])
    g.add_output(g.op("Concat", *[g.op("Unsqueeze", s, g.i64(0)) for s in ssms], axis=0), "ssm_state_out", F32, [d.L, 1, d.H, d.P, d.N])
    g.add_output(g.op("Concat", *[g.op("Unsqueeze", t, g.i64(0)) for t in dts], axis=0), "dt", F32, [d.L, 1] + t_dim + [d.H])


def build_prefill(cfg, layout):
    """Inputs: input_ids int32 [1, T] (T = a multiple of chunk_size, or any T <= chunk_size),
    logits_from int64 [1] (first position whose logits are returned: T-1 for the last only, 0 for all),
    conv_state, ssm_state. Outputs: logits [1, T - logits_from, V], conv_state_out, ssm_state_out,
    dt [L, 1, T, H]."""
    d = Dims(cfg)
    g = GraphBuilder("mamba2_prefill")
    w = WeightRefs(g, layout)
    ids = g.add_input("input_ids", I32, [1, "T"])
    logits_from = g.add_input("logits_from", I64, [1])
    convs, ssms = _state_io(g, d)
    T = g.op("Slice", g.op("Shape", ids), g.i64(1), g.i64(2))  # [1]
    Lc = g.op("Min", T, g.i64(d.CS))
    nc = g.op("Div", T, Lc)
    h = g.op("Gather", w("backbone.embeddings.weight"), ids, axis=0)  # [1, T, D]
    new_convs, new_ssms, dts = [], [], []
    for li in range(d.L):
        h, c, s, dt = prefill_mixer(g, w, d, h, convs[li], ssms[li], li, T, nc, Lc)
        new_convs.append(c)
        new_ssms.append(s)
        dts.append(dt)
    h_tail = g.op("Slice", h, logits_from, g.i64(2**62), g.i64(1))
    g.add_output(lm_head(g, w, d, h_tail), "logits", F32, [1, "R", d.V])
    _state_out(g, d, new_convs, new_ssms, dts, ["T"])
    return g.model()


def build_step(cfg, layout):
    """Inputs: input_ids int32 [1], conv_state, ssm_state. Outputs: logits [1, V], states, dt [L, 1, H]."""
    d = Dims(cfg)
    g = GraphBuilder("mamba2_step")
    w = WeightRefs(g, layout)
    ids = g.add_input("input_ids", I32, [1])
    convs, ssms = _state_io(g, d)
    h = g.op("Gather", w("backbone.embeddings.weight"), ids, axis=0)  # [1, D]
    new_convs, new_ssms, dts = [], [], []
    for li in range(d.L):
        h, c, s, dt = step_mixer(g, w, d, h, convs[li], ssms[li], li)
        new_convs.append(c)
        new_ssms.append(s)
        dts.append(dt)
    g.add_output(lm_head(g, w, d, h), "logits", F32, [1, d.V])
    _state_out(g, d, new_convs, new_ssms, dts, [])
    return g.model()
