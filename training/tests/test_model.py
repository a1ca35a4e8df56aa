"""CPU checks of model.py (run: /usr/bin/python3 training/tests/test_model.py)."""
import dataclasses
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from model import Mamba2LM, Mamba2Shape, ssd  # noqa: E402
from transformer_baseline import TransformerLM, TransformerShape  # noqa: E402

TINY = Mamba2Shape(vocab_size=50, hidden_size=32, num_hidden_layers=2, state_size=8, head_dim=8, n_groups=1)


def naive_scan(x, a, B, C):
    """The recurrence S_t = exp(a_t) S_{t-1} + x_t B_t^T, y_t = S_t C_t, one step at a time."""
    b, T, h, p = x.shape
    g, n = B.shape[2:]
    S = torch.zeros(b, h, p, n, dtype=torch.float64)
    ys = []
    for t in range(T):
        Bh = B[:, t].repeat_interleave(h // g, dim=1)
        Ch = C[:, t].repeat_interleave(h // g, dim=1)
        S = S * torch.exp(a[:, t])[..., None, None] + x[:, t][..., None] * Bh[:, :, None, :]
        ys.append((S @ Ch[..., None])[..., 0])
    return torch.stack(ys, 1), S


def test_chunked_ssd_equals_recurrence_with_groups():
    torch.manual_seed(0)
    b, T, h, p, g, n = 2, 24, 4, 3, 2, 5
    x = torch.randn(b, T, h, p, dtype=torch.float64)
    a = -torch.rand(b, T, h, dtype=torch.float64)
    B = torch.randn(b, T, g, n, dtype=torch.float64)
    C = torch.randn(b, T, g, n, dtype=torch.float64)
    y, S = ssd(x, a, B, C, block=8)
    y2, S2 = naive_scan(x, a, B, C)
    assert torch.allclose(y, y2, atol=1e-9), (y - y2).abs().max()
    assert torch.allclose(S, S2, atol=1e-9)


def test_step_by_step_decoding_equals_chunked_forward(shape=TINY):
    torch.manual_seed(1)
    m = Mamba2LM(shape).double()
    for layer in m.backbone.layers:
        layer.mixer.ssd_block = 8
    ids = torch.randint(0, 50, (3, 21))
    full = m(ids)
    _, states = m(ids[:, :5], return_states=True)
    outs = []
    for t in range(5, 21):
        lg, states = m.step(ids[:, t], states)
        outs.append(lg)
    step_logits = torch.stack(outs, 1)
    assert torch.allclose(full[:, 5:], step_logits, atol=1e-6)  # dt is computed in fp32 on both paths, (full[:, 5:] - step_logits).abs().max()


def test_step_by_step_decoding_with_groups_equals_chunked_forward():
    """n_groups > 1: each group of heads reads its own B and C, on both paths."""
    test_step_by_step_decoding_equals_chunked_forward(dataclasses.replace(TINY, n_groups=4))


def test_left_padding_with_mask_leaves_state_untouched():
    torch.manual_seed(2)
    m = Mamba2LM(TINY).double()
    ids = torch.randint(1, 50, (1, 13))
    ref, ref_states = m(ids, return_states=True)
    padded = torch.cat([torch.zeros(1, 7, dtype=torch.long), ids], 1)
    mask = torch.cat([torch.zeros(1, 7, dtype=torch.bool), torch.ones(1, 13, dtype=torch.bool)], 1)
    out, states = m(padded, mask=mask, return_states=True)
    assert torch.allclose(out[:, 7:], ref, atol=1e-9)
    for (c1, s1), (c2, s2) in zip(ref_states, states):
        assert torch.allclose(c1, c2) and torch.allclose(s1, s2, atol=1e-9)


def test_causal_conv_equals_conv1d_with_left_padding():
    torch.manual_seed(5)
    m = Mamba2LM(TINY).double()
    mixer = m.backbone.layers[0].mixer
    x = torch.randn(2, 9, TINY.conv_dim, dtype=torch.float64)
    ref = mixer.conv1d(x.transpose(1, 2))[..., :9].transpose(1, 2)
    assert torch.allclose(mixer.causal_conv(x), ref, atol=1e-12)


def test_parameter_names_are_hugging_face_mamba2():
    names = set(Mamba2LM(TINY).state_dict())
    want = {"backbone.embeddings.weight", "backbone.norm_f.weight"}
    for i in range(TINY.num_hidden_layers):
        want.add(f"backbone.layers.{i}.norm.weight")
        for k in ("in_proj.weight", "conv1d.weight", "conv1d.bias", "dt_bias", "A_log", "D", "norm.weight", "out_proj.weight"):
            want.add(f"backbone.layers.{i}.mixer.{k}")
    assert names == want, names ^ want


def test_transformer_cache_decoding_and_left_padding_equal_full_forward():
    torch.manual_seed(3)
    m = TransformerLM(TransformerShape(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_heads=4, mlp_size=48)).double()
    ids = torch.randint(1, 50, (1, 12))
    full = m(ids)
    padded = torch.cat([torch.zeros(1, 5, dtype=torch.long), ids[:, :6]], 1)
    mask = torch.cat([torch.zeros(1, 5, dtype=torch.bool), torch.ones(1, 6, dtype=torch.bool)], 1)
    logits, cache = m(padded, mask=mask, return_cache=True)
    assert torch.allclose(logits[:, 5:], full[:, :6], atol=1e-9)
    outs = []
    for t in range(6, 12):
        lg, cache = m.step(ids[:, t], cache)
        outs.append(lg)
    assert torch.allclose(torch.stack(outs, 1), full[:, 6:], atol=1e-9)


def test_batched_greedy_equals_one_prompt_at_a_time():
    import eval as ev

    torch.manual_seed(4)
    m = Mamba2LM(TINY).eval()
    prompts = [[1, 7, 8, 9, 10, 11], [1, 20, 21], [1, 30, 31, 32, 33]]
    stop = torch.zeros(50, dtype=torch.bool)
    together = ev.greedy(m, prompts, 6, stop)
    alone = [ev.greedy(m, [p], 6, stop)[0] for p in prompts]
    assert together == alone, (together, alone)


if __name__ == "__main__":
    for name, fn in list(globals().items()):
        if name.startswith("test_"):
            fn()
            print("ok", name)
