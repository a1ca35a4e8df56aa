"""The transformer baseline: a decoder of about the Mamba-2 model's size, trained on the same tokens.

Pre-RMSNorm blocks, rotary positions (relative, so left padding with a key mask is exact),
SwiGLU MLP, tied embeddings. 6 layers of width 512 with an MLP of 1408 give 27.7M parameters,
against 28.2M for the 12-layer Mamba-2.
"""
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from model import RMSNorm


@dataclass
class TransformerShape:
    vocab_size: int = 16384
    hidden_size: int = 512
    num_hidden_layers: int = 6
    num_heads: int = 8
    mlp_size: int = 1408
    eps: float = 1e-5
    rope_theta: float = 10000.0

    def to_dict(self):
        return asdict(self)


def rope(q, pos, theta):
    """q: (b, heads, T, d) rotated by positions pos: (b, T)."""
    d = q.shape[-1]
    inv = 1.0 / theta ** (torch.arange(0, d, 2, device=q.device, dtype=torch.float32) / d)
    ang = pos[:, None, :, None].float() * inv  # (b, 1, T, d/2)
    cos, sin = ang.cos(), ang.sin()
    q1, q2 = q.float()[..., 0::2], q.float()[..., 1::2]
    out = torch.stack([q1 * cos - q2 * sin, q1 * sin + q2 * cos], dim=-1).flatten(-2)
    return out.to(q.dtype)


def attention(q, k, v, attn_mask):
    """Causal attention (attn_mask None) or attention under a boolean mask (True = may attend)."""
    if hasattr(F, "scaled_dot_product_attention"):
        if attn_mask is None:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
    T = q.shape[-2]  # torch < 2.0 (the CPU machine's smoke tests)
    if attn_mask is None:
        attn_mask = torch.tril(torch.ones(T, T, dtype=torch.bool, device=q.device))
    scores = (q @ k.transpose(-1, -2)) / q.shape[-1] ** 0.5
    return scores.masked_fill(~attn_mask, float("-inf")).softmax(-1) @ v


class Block(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.s = s
        self.attn_norm = RMSNorm(s.hidden_size, s.eps)
        self.qkv = nn.Linear(s.hidden_size, 3 * s.hidden_size, bias=False)
        self.proj = nn.Linear(s.hidden_size, s.hidden_size, bias=False)
        self.mlp_norm = RMSNorm(s.hidden_size, s.eps)
        self.gate_up = nn.Linear(s.hidden_size, 2 * s.mlp_size, bias=False)
        self.down = nn.Linear(s.mlp_size, s.hidden_size, bias=False)

    def forward(self, h, pos, attn_mask, past=None):
        """h: (b, T, d); past: (k, v) of earlier positions for decoding. Returns h and this layer's (k, v)."""
        s = self.s
        b, T, _ = h.shape
        q, k, v = self.qkv(self.attn_norm(h)).view(b, T, 3, s.num_heads, -1).permute(2, 0, 3, 1, 4)
        q, k = rope(q, pos, s.rope_theta), rope(k, pos, s.rope_theta)
        if past is not None:
            k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)
        a = attention(q, k, v, attn_mask)
        h = h + self.proj(a.transpose(1, 2).reshape(b, T, -1))
        g, u = self.gate_up(self.mlp_norm(h)).chunk(2, dim=-1)
        return h + self.down(F.silu(g) * u), (k, v)


class TransformerLM(nn.Module):
    def __init__(self, s: TransformerShape):
        super().__init__()
        self.s = s
        self.embeddings = nn.Embedding(s.vocab_size, s.hidden_size)
        self.layers = nn.ModuleList([Block(s) for _ in range(s.num_hidden_layers)])
        self.norm_f = RMSNorm(s.hidden_size, s.eps)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if p.ndim == 2:
                    std = 0.02 / (2 * s.num_hidden_layers) ** 0.5 if name.endswith(("proj.weight", "down.weight")) else 0.02
                    nn.init.normal_(p, std=std)

    def forward(self, ids, mask=None, return_cache=False):
        """ids: (b, T); mask: (b, T) bool, False at left padding. Returns logits (b, T, vocab)
        [and the key/value cache that `step` continues from]."""
        b, T = ids.shape
        if mask is None:
            pos = torch.arange(T, device=ids.device)[None].expand(b, T)
            attn_mask = None
        else:
            pos = (mask.long().cumsum(1) - 1).clamp(min=0)
            causal = torch.tril(torch.ones(T, T, dtype=torch.bool, device=ids.device))
            eye = torch.eye(T, dtype=torch.bool, device=ids.device)
            attn_mask = ((causal & mask[:, None, :]) | eye)[:, None]  # a padded query sees itself only
        h = self.embeddings(ids).float()
        kv = []
        for layer in self.layers:
            h, c = layer(h, pos, attn_mask)
            kv.append(c)
        logits = F.linear(self.norm_f(h), self.embeddings.weight)
        if not return_cache:
            return logits
        key_mask = mask if mask is not None else torch.ones(b, T, dtype=torch.bool, device=ids.device)
        return logits, (kv, pos[:, -1], key_mask)

    def step(self, token, cache):
        """token: (b,) -> logits (b, vocab) and the cache extended by one position."""
        kv, last_pos, key_mask = cache
        pos = (last_pos + 1)[:, None]
        key_mask = torch.cat([key_mask, torch.ones_like(key_mask[:, :1])], 1)
        attn_mask = key_mask[:, None, None, :]  # (b, 1, 1, T+1)
        h = self.embeddings(token[:, None]).float()
        new = []
        for layer, past in zip(self.layers, kv):
            h, c = layer(h, pos, attn_mask, past)
            new.append(c)
        return F.linear(self.norm_f(h), self.embeddings.weight)[:, 0], (new, pos[:, 0], key_mask)
