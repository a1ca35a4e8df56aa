"""The Mamba-2 language model in the recurrent form, token by token, in float64 numpy: an
independent check of the exported graphs (the parity fixture's reference is transformers' own
implementation; this one needs nothing but numpy)."""
import numpy as np


def rms(v, eps):
    return v / np.sqrt(np.mean(v * v, axis=-1, keepdims=True) + eps)


def softplus(v):
    return np.logaddexp(0, v)


def silu(v):
    return v / (1 + np.exp(-v))


def run(cfg, t, ids, conv=None, ssm=None):
    """Returns (logits [T, V], conv [L, conv_dim, K-1], ssm [L, H, P, N])."""
    L, H, P, N, G, K = cfg["num_hidden_layers"], cfg["num_heads"], cfg["head_dim"], cfg["state_size"], cfg["n_groups"], cfg["conv_kernel"]
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    di = H * P
    cd = di + 2 * G * N
    ng = cfg.get("norm_group_size") or di
    t = {k: v.astype(np.float64) for k, v in t.items()}
    conv = np.zeros((L, cd, K - 1)) if conv is None else conv.astype(np.float64).copy()
    ssm = np.zeros((L, H, P, N)) if ssm is None else ssm.astype(np.float64).copy()
    emb = t["backbone.embeddings.weight"]
    head = t.get("lm_head.weight", emb)
    out = []
    for tok in ids:
        h = emb[tok].copy()
        for l in range(L):
            p = f"backbone.layers.{l}.mixer."
            u = rms(h, eps) * t[f"backbone.layers.{l}.norm.weight"]
            zxd = t[p + "in_proj.weight"] @ u
            z, xbc, dtr = zxd[:di], zxd[di : di + cd], zxd[di + cd :]
            window = np.concatenate([conv[l], xbc[:, None]], axis=1)
            conv[l] = window[:, 1:]
            xbc = silu(t[p + "conv1d.bias"] + np.sum(t[p + "conv1d.weight"][:, 0, :] * window, axis=1))
            x = xbc[:di].reshape(H, P)
            B = xbc[di : di + G * N].reshape(G, N)
            C = xbc[di + G * N :].reshape(G, N)
            dt = softplus(dtr + t[p + "dt_bias"])
            A = -np.exp(t[p + "A_log"])
            g = np.arange(H) // (H // G)
            ssm[l] = np.exp(dt * A)[:, None, None] * ssm[l] + dt[:, None, None] * x[:, :, None] * B[g][:, None, :]
            y = np.einsum("hpn,hn->hp", ssm[l], C[g]) + t[p + "D"][:, None] * x
            y = y.reshape(di) * silu(z)
            y = rms(y.reshape(-1, ng), eps).reshape(di) * t[p + "norm.weight"]
            h = h + t[p + "out_proj.weight"] @ y
        out.append(head @ (rms(h, eps) * t["backbone.norm_f.weight"]))
    return np.array(out), conv, ssm
