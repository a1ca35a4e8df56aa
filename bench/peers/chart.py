"""peers.png from peers.json (bench/peers/benchPeers.ts): speeds, editing latency, load and memory."""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

src, out = sys.argv[1], sys.argv[2]
r = json.load(open(src))
rows = r["rows"]
labels = [f"{x['runtime']}\n{x['weights']}" for x in rows]
colors = ["#2b7bba" if x["runtime"].startswith("mamba") else "#e08a2c" if "native" in x["runtime"] else "#8c6bb1" for x in rows]

fig, axes = plt.subplots(1, 4, figsize=(18, 5.5))


def bars(ax, metrics, title, log=False, unit=""):
    n = len(metrics)
    width = 0.8 / len(rows)
    for i, row in enumerate(rows):
        vals = [m[1](row) for m in metrics]
        xs = [j + (i - (len(rows) - 1) / 2) * width for j in range(n)]
        ax.bar(xs, [v if v is not None else 0 for v in vals], width, color=colors[i], alpha=0.55 + 0.45 * (1 - i / max(1, len(rows))),
               label=labels[i].replace("\n", " "), edgecolor="black", linewidth=0.4)
        for x, v in zip(xs, vals):
            if v is not None:
                ax.text(x, v, f"{v:.0f}" if v >= 10 else f"{v:.1f}", ha="center", va="bottom", fontsize=6, rotation=90)
    ax.set_xticks(range(n))
    ax.set_xticklabels([m[0] for m in metrics], fontsize=8)
    ax.set_title(title, fontsize=10)
    if log:
        ax.set_yscale("log")
    ax.set_ylabel(unit, fontsize=8)


edit = lambda k: (lambda x: x["edit"][k] if x.get("edit") else None)  # noqa: E731
bars(axes[0], [("prefill 512", lambda x: x["prefill_tokens_per_s"]["T512"]), ("prefill 2048", lambda x: x["prefill_tokens_per_s"]["T2048"])], "prefill (higher is better)", unit="tokens/s")
bars(axes[1], [("decode", lambda x: x["decode_tokens_per_s"])], "decode (higher is better)", unit="tokens/s")
bars(axes[2], [("append", edit("append_ms")), ("mid-file edit", edit("midfile_edit_ms")), ("cursor jump", edit("cursor_jump_ms"))], "editing, 4,000-line file (lower is better)", log=True, unit="ms to a completion (log)")
bars(axes[3], [("load ms", lambda x: x["load_ms"]), ("peak RSS MB", lambda x: x["peak_rss_mb"])], "load and memory (lower is better)", log=True)
handles, lbls = axes[0].get_legend_handles_labels()
fig.legend(handles, lbls, loc="lower center", ncol=len(rows), fontsize=8)
m = r["machine"]
fig.suptitle(f"{r['model']} on {m['cpu']} ({m['cores']} cores), {r['started'][:16]} UTC; load avg before {r['load_average_1_5_15'][0][0]}", fontsize=10)
fig.tight_layout(rect=(0, 0.08, 1, 0.95))
fig.savefig(out, dpi=110)
