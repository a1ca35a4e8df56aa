"""Mamba-2 language model in plain PyTorch, with Hugging Face Mamba2ForCausalLM's parameter names,
so `Mamba2ForCausalLM.from_pretrained` loads what train.py saves.

One layer (the block of Codestral Mamba; prefix backbone.layers.N.):
    u = rmsnorm(h) * norm.weight
    [z | xBC | dt] = mixer.in_proj(u)                         z: d_inner, xBC: d_inner + 2*G*N, dt: heads
    xBC = silu(causal depthwise conv1d(xBC))                  mixer.conv1d, kernel K
    x | B | C = xBC                                           x: [heads, P], B, C: [G, N]
    dt = softplus(dt + mixer.dt_bias);  A = -exp(mixer.A_log) (one scalar per head)
    S_t = exp(dt_t A) S_{t-1} + dt_t x_t B_t^T;  y_t = S_t C_t + mixer.D * x_t       S: [heads, P, N]
    y = rmsnorm(y * silu(z)) * mixer.norm.weight              gated RMSNorm, see below
    h = h + mixer.out_proj(y)
logits = embeddings.weight @ (rmsnorm(h) * norm_f.weight)      tied embeddings

Gated RMSNorm grouping: ONE group over all d_inner channels (norm_group_size = d_inner in
config.json). That is what transformers 5.17's MambaRMSNormGated computes (the mean of squares over
the last dimension); mamba_ssm normalizes over d_inner / n_groups channels instead, and with
n_groups = 1 the two are the same.

Training runs the chunked SSD algorithm (ssd_minimal.py); decoding runs the recurrence one token at
a time (`step`). Both give the same numbers; eval.py relies on that.
"""
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Mamba2Shape:
    vocab_size: int = 16384
    hidden_size: int = 512
    num_hidden_layers: int = 12
    state_size: int = 64
    head_dim: int = 64
    expand: int = 2
    n_groups: int = 1
    conv_kernel: int = 4
    layer_norm_epsilon: float = 1e-5
    chunk_size: int = 256  # the chunk HF's torch path and the exporter use; any chunk gives the same math

    @property
    def d_inner(self):
        return self.expand * self.hidden_size

    @property
    def num_heads(self):
        return self.d_inner // self.head_dim

    @property
    def conv_dim(self):
        return self.d_inner + 2 * self.n_groups * self.state_size

    def state_floats(self):
        """Floats of recurrent state the extension caches per position: conv + SSM, all layers."""
        conv = self.conv_dim * (self.conv_kernel - 1)
        ssm = self.num_heads * self.head_dim * self.state_size
        return self.num_hidden_layers * (conv + ssm)

    def hf_config(self):
        """config.json with transformers' Mamba2Config field names."""
        return {
            "architectures": ["Mamba2ForCausalLM"],
            "model_type": "mamba2",
            **{k: v for k, v in asdict(self).items()},
            "num_heads": self.num_heads,
            "norm_group_size": self.d_inner,
            "tie_word_embeddings": True,
            "use_bias": False,
            "use_conv_bias": True,
            "hidden_act": "silu",
            "rms_norm": True,
            "residual_in_fp32": True,
            "initializer_range": 0.02,
            "time_step_min": 0.001,
            "time_step_max": 0.1,
            "time_step_floor": 1e-4,
            "rescale_prenorm_residual": False,
            "use_cache": True,
            "pad_token_id": 0,
            "bos_token_id": 1,
            "eos_token_id": 0,
            "torch_dtype": "float32",
        }


def segsum(a):
    """a: (..., T) -> (..., T, T) with out[i, j] = a[j+1] + ... + a[i] for i >= j, -inf above the diagonal."""
    T = a.size(-1)
    a = a[..., None].expand(*a.shape, T)  # a[..., i, j] = a_i
    below = torch.tril(torch.ones(T, T, dtype=torch.bool, device=a.device), diagonal=-1)
    a = a.masked_fill(~below, 0)
    s = torch.cumsum(a, dim=-2)
    on_or_below = torch.tril(torch.ones(T, T, dtype=torch.bool, device=a.device), diagonal=0)
    return s.masked_fill(~on_or_below, -torch.inf)


def segsum_in_chunk(a):
    """segsum from one cumsum, out[i, j] = cum[i] - cum[j]: within a chunk of <= 128 steps the
    difference loses nothing that matters in fp32, and it avoids segsum's (T, T) cumsum."""
    T = a.size(-1)
    cum = torch.cumsum(a, dim=-1)
    on_or_below = torch.tril(torch.ones(T, T, dtype=torch.bool, device=a.device), diagonal=0)
    return (cum[..., :, None] - cum[..., None, :]).masked_fill(~on_or_below, -torch.inf)


def ssd(x, a, B, C, block, initial_state=None):
    """Chunked SSD (ssd_minimal.py), with B and C shared by the heads of a group.

    x: (b, T, h, p), already multiplied by dt;  a: (b, T, h) = dt * A;  B, C: (b, T, g, n);
    T a multiple of block. Returns y (b, T, h, p) and the final state (b, h, p, n).
    """
    b, T, h, p = x.shape
    g, n = B.shape[2:]
    k = h // g  # heads per group
    c = T // block
    x = x.reshape(b, c, block, g, k, p)
    B = B.reshape(b, c, block, g, n)
    C = C.reshape(b, c, block, g, n)
    a = a.reshape(b, c, block, g, k).permute(0, 3, 4, 1, 2)  # (b, g, k, c, l)
    a_cum = torch.cumsum(a, dim=-1)

    # 1. intra-chunk (diagonal blocks): y = (C B^T * L) x within each chunk
    L = torch.exp(segsum_in_chunk(a))  # (b, g, k, c, l, s)
    CB = torch.einsum("bclgn,bcsgn->bgcls", C, B)
    y_diag = torch.einsum("bgcls,bgkcls,bcsgkp->bclgkp", CB, L, x)

    # 2. chunk states: the state each chunk's own inputs leave at its end
    decay_states = torch.exp(a_cum[..., -1:] - a_cum)  # (b, g, k, c, l)
    states = torch.einsum("bclgn,bgkcl,bclgkp->bcgkpn", B, decay_states, x)

    # 3. inter-chunk recurrence: the state entering each chunk (fp32: it carries the whole past)
    if initial_state is None:
        initial = torch.zeros_like(states[:, :1])
    else:
        initial = initial_state.reshape(b, 1, g, k, p, n).to(states.dtype)
    states = torch.cat([initial, states], dim=1).to(a_cum.dtype)
    decay_chunk = torch.exp(segsum(F.pad(a_cum[..., -1], (1, 0))))  # (b, g, k, c+1, c+1)
    new_states = torch.einsum("bgkzc,bcgkpn->bzgkpn", decay_chunk, states)
    states, final_state = new_states[:, :-1], new_states[:, -1]

    # 4. state -> output: what the entering state adds to each position of the chunk
    state_decay_out = torch.exp(a_cum)  # (b, g, k, c, l)
    y_off = torch.einsum("bclgn,bcgkpn,bgkcl->bclgkp", C, states.to(C.dtype), state_decay_out.to(C.dtype))

    y = (y_diag + y_off).reshape(b, T, h, p)
    return y, final_state.reshape(b, h, p, n)


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, h):
        dtype = h.dtype
        h = h.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)


class GatedRMSNorm(RMSNorm):
    """rmsnorm(y * silu(z)) * weight over ALL d_inner channels (one group), as transformers does."""

    def forward(self, y, z):
        return super().forward(y.float() * F.silu(z.float()))


class Mamba2Mixer(nn.Module):
    def __init__(self, s: Mamba2Shape):
        super().__init__()
        self.s = s
        h = s.num_heads
        self.in_proj = nn.Linear(s.hidden_size, s.d_inner + s.conv_dim + h, bias=False)
        self.conv1d = nn.Conv1d(s.conv_dim, s.conv_dim, s.conv_kernel, groups=s.conv_dim, padding=s.conv_kernel - 1, bias=True)
        self.dt_bias = nn.Parameter(torch.zeros(h))
        self.A_log = nn.Parameter(torch.zeros(h))
        self.D = nn.Parameter(torch.ones(h))
        self.norm = GatedRMSNorm(s.d_inner, s.layer_norm_epsilon)
        self.out_proj = nn.Linear(s.d_inner, s.hidden_size, bias=False)
        self.ssd_block = 64  # training chunk: 64 measured a little faster than 128 on an H100 (256 broke inductor)

    def split(self, zxbcdt):
        s = self.s
        return torch.split(zxbcdt, [s.d_inner, s.conv_dim, s.num_heads], dim=-1)

    def forward(self, u, mask=None):
        """u: (b, T, d_model); mask: (b, T) bool, False at left padding (which then leaves the state
        at zero, as if the sequence began after it). Returns out and (conv_state, ssm_state)."""
        s = self.s
        b, T, _ = u.shape
        z, xBC, dt = self.split(self.in_proj(u))
        if mask is not None:
            xBC = xBC * mask[..., None].to(xBC.dtype)
        K = s.conv_kernel
        conv_state = F.pad(xBC, (0, 0, max(0, K - 1 - T), 0))[:, -(K - 1):].transpose(1, 2)  # (b, conv_dim, K-1), oldest first
        xBC = F.silu(self.causal_conv(xBC))
        x, B, C = torch.split(xBC, [s.d_inner, s.n_groups * s.state_size, s.n_groups * s.state_size], dim=-1)
        dt = F.softplus(dt.float() + self.dt_bias.float())  # (b, T, h)
        if mask is not None:
            dt = dt * mask[..., None]
        A = -torch.exp(self.A_log.float())
        x = x.reshape(b, T, s.num_heads, s.head_dim)
        pad = -T % self.ssd_block  # right padding has dt = 0: it changes neither outputs nor state
        y, ssm_state = ssd(
            F.pad(x * dt[..., None].to(x.dtype), (0, 0, 0, 0, 0, pad)),
            F.pad(dt * A, (0, 0, 0, pad)),
            F.pad(B.reshape(b, T, s.n_groups, s.state_size), (0, 0, 0, 0, 0, pad)),
            F.pad(C.reshape(b, T, s.n_groups, s.state_size), (0, 0, 0, 0, 0, pad)),
            self.ssd_block,
        )
        y = y[:, :T] + x * self.D[:, None].to(x.dtype)
        y = self.norm(y.reshape(b, T, s.d_inner), z)
        return self.out_proj(y), (conv_state, ssm_state)

    def causal_conv(self, xBC):
        """Depthwise causal conv as K shifted multiply-adds, the same numbers as conv1d(padding=K-1)[:T]:
        torch.compile fuses these, while cuDNN's depthwise kernels took ~17% of a training step."""
        K, T = self.s.conv_kernel, xBC.shape[1]
        xp = F.pad(xBC, (0, 0, K - 1, 0))  # (b, T+K-1, conv_dim)
        w = self.conv1d.weight[:, 0, :]  # (conv_dim, K)
        out = self.conv1d.bias + xp[:, 0:T] * w[:, 0]
        for k in range(1, K):
            out = out + xp[:, k : k + T] * w[:, k]
        return out

    def step(self, u, conv_state, ssm_state):
        """One token. u: (b, d_model); conv_state: (b, conv_dim, K-1); ssm_state: (b, h, p, n)."""
        s = self.s
        b = u.shape[0]
        z, xBC, dt = self.split(self.in_proj(u))
        window = torch.cat([conv_state, xBC[..., None].to(conv_state.dtype)], dim=-1)  # (b, conv_dim, K)
        xBC = F.silu((window * self.conv1d.weight[:, 0, :]).sum(-1) + self.conv1d.bias)
        x, B, C = torch.split(xBC, [s.d_inner, s.n_groups * s.state_size, s.n_groups * s.state_size], dim=-1)
        x = x.reshape(b, s.num_heads, s.head_dim).float()
        per = s.num_heads // s.n_groups
        B = B.reshape(b, s.n_groups, s.state_size).repeat_interleave(per, dim=1).float()  # (b, h, n)
        C = C.reshape(b, s.n_groups, s.state_size).repeat_interleave(per, dim=1).float()
        dt = F.softplus(dt.float() + self.dt_bias.float())  # (b, h)
        dA = torch.exp(dt * -torch.exp(self.A_log.float()))
        ssm_state = ssm_state * dA[..., None, None] + (dt[..., None] * x)[..., None] * B[:, :, None, :]
        y = (ssm_state @ C[..., None])[..., 0] + self.D.float()[:, None] * x
        y = self.norm(y.reshape(b, s.d_inner), z)
        return self.out_proj(y), window[..., 1:], ssm_state


class Mamba2Block(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.norm = RMSNorm(s.hidden_size, s.layer_norm_epsilon)
        self.mixer = Mamba2Mixer(s)


class Mamba2LM(nn.Module):
    def __init__(self, s: Mamba2Shape):
        super().__init__()
        self.s = s
        self.backbone = nn.Module()
        self.backbone.embeddings = nn.Embedding(s.vocab_size, s.hidden_size)
        self.backbone.layers = nn.ModuleList([Mamba2Block(s) for _ in range(s.num_hidden_layers)])
        self.backbone.norm_f = RMSNorm(s.hidden_size, s.layer_norm_epsilon)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self, std=0.02):
        """Mamba-2's initialization: A in [1, heads], dt log-uniform in [1e-3, 1e-1], D = 1, and the
        residual projections scaled down by the depth."""
        s = self.s
        nn.init.normal_(self.backbone.embeddings.weight, std=std)
        for layer in self.backbone.layers:
            m = layer.mixer
            nn.init.normal_(m.in_proj.weight, std=std)
            nn.init.normal_(m.out_proj.weight, std=std / math.sqrt(2 * s.num_hidden_layers))
            m.A_log.copy_(torch.log(torch.arange(1, s.num_heads + 1, dtype=torch.float32)))
            dt = torch.exp(torch.rand(s.num_heads) * (math.log(0.1) - math.log(0.001)) + math.log(0.001)).clamp(min=1e-4)
            m.dt_bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus
            m.D.fill_(1.0)

    def logits(self, h):
        return F.linear(self.backbone.norm_f(h), self.backbone.embeddings.weight)

    def forward(self, ids, mask=None, return_states=False):
        """ids: (b, T) -> logits (b, T, vocab) [and per-layer (conv_state, ssm_state) after the last token]."""
        h = self.backbone.embeddings(ids).float()
        states = []
        for layer in self.backbone.layers:
            out, st = layer.mixer(layer.norm(h), mask)
            h = h + out  # residual kept in fp32
            states.append(st)
        logits = self.logits(h)
        return (logits, states) if return_states else logits

    def step(self, token, states):
        """token: (b,) -> logits (b, vocab) and the next states."""
        h = self.backbone.embeddings(token).float()
        new = []
        for layer, (conv, ssm) in zip(self.backbone.layers, states):
            out, conv, ssm = layer.mixer.step(layer.norm(h), conv, ssm)
            h = h + out
            new.append((conv, ssm))
        return self.logits(h), new


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())
