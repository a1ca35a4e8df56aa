"""Throughput of the Mamba-2 training step for SSD variants (GPU machine): compiled fwd+bwd of a
2-layer model of the production width at batch 32 x 2048, and a profile of the current variant.

    python3 training/bench/bench_ssd.py
"""
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import model as M  # noqa: E402

STABLE_SEGSUM = M.segsum
DIFF_SEGSUM = M.segsum_in_chunk


def segsum_by_difference(a):
    """Same values as segsum from one cumsum: out[i, j] = cum[i] - cum[j] (fine in fp32 for a chunk)."""
    T = a.size(-1)
    cum = torch.cumsum(a, dim=-1)
    out = cum[..., :, None] - cum[..., None, :]
    on_or_below = torch.tril(torch.ones(T, T, dtype=torch.bool, device=a.device))
    return out.masked_fill(~on_or_below, -torch.inf)


def bench(block, segsum, layers=2, steps=8, profile=False):
    M.segsum_in_chunk = segsum
    shape = M.Mamba2Shape(num_hidden_layers=layers)
    model = M.Mamba2LM(shape).cuda()
    for l in model.backbone.layers:
        l.mixer.ssd_block = block
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)

    def loss_of(x, y):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(x)
        return F.cross_entropy(logits.float().view(-1, logits.shape[-1]), y.reshape(-1))

    f = torch.compile(loss_of)
    x = torch.randint(0, shape.vocab_size, (32, 2049), device="cuda")
    t0 = time.time()
    f(x[:, :-1], x[:, 1:]).backward()
    torch.cuda.synchronize()
    compile_s = time.time() - t0
    for _ in range(2):
        f(x[:, :-1], x[:, 1:]).backward(); opt.step(); opt.zero_grad()
    torch.cuda.synchronize()
    t0 = time.time()
    for _ in range(steps):
        f(x[:, :-1], x[:, 1:]).backward(); opt.step(); opt.zero_grad()
    torch.cuda.synchronize()
    dt = (time.time() - t0) / steps
    print(f"block {block} segsum {segsum.__name__}: {dt * 1000:.1f} ms/step for {layers} layers, "
          f"{32 * 2048 / dt:,.0f} tok/s, compile {compile_s:.0f}s, peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB", flush=True)
    if profile:
        from torch.profiler import ProfilerActivity, profile as prof

        with prof(activities=[ProfilerActivity.CUDA]) as p:
            for _ in range(3):
                f(x[:, :-1], x[:, 1:]).backward(); opt.step(); opt.zero_grad()
            torch.cuda.synchronize()
        print(p.key_averages().table(sort_by="cuda_time_total", row_limit=25, max_name_column_width=90), flush=True)
    torch.cuda.reset_peak_memory_stats()


if __name__ == "__main__":
    # measured 2026-11-22 on an H100 (2 layers, before the shifted-sum conv): block 128 stable segsum
    # 30.7 ms/step, block 128 by difference 29.5, block 64 stable 29.6; block 256 failed in inductor;
    # cuDNN's depthwise conv kernels were ~17% of the step.
    torch.backends.cuda.matmul.allow_tf32 = True
    bench(64, DIFF_SEGSUM, profile=True)
    bench(64, DIFF_SEGSUM, layers=12, steps=5)
