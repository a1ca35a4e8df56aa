"""Write a model's card (README.md) and its plots from eval.json, the training logs and the corpus.

    python3 training/model_card.py --model-dir models/NAME --runs training/runs --corpus .corpus

Plots: loss_curves.png (training loss against tokens and against training seconds, both models)
and metrics.png (per-language bars of next-line and fill-in-the-middle exact match, summary
ROUGE-L and bits per byte for every model). Data sources: every package in the corpus with its
version and licence, read from the corpus files themselves.
"""
import argparse
import csv
import json
import lzma
import os
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MODEL_LABEL = {"mamba2": "Mamba-2 (this model)", "mamba2-i8": "Mamba-2, int8 weights (as bundled)",
               "transformer": "transformer baseline", "ngram": "4-gram baseline"}


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def loss_plot(runs, out):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, rows in runs.items():
        tok = [int(r["tokens"]) / 1e6 for r in rows]
        sec = [float(r["train_seconds"]) for r in rows]
        loss = [float(r["loss"]) for r in rows]
        axes[0].plot(tok, loss, label=name)
        axes[1].plot(sec, loss, label=name)
    axes[0].set_xlabel("training tokens (millions)")
    axes[1].set_xlabel("training seconds on one GPU (compile excluded)")
    for ax in axes:
        ax.set_ylabel("training loss (nats/token)")
        ax.set_ylim(top=min(4.0, ax.get_ylim()[1]))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def metric_plot(metrics, out):
    panels = [("nextline_exact_match", "next-line exact match (%)"), ("fim_exact_match", "FIM single-line exact match (%)"),
              ("summary_rougeL", "summary ROUGE-L F1"), ("bits_per_byte", "bits per byte (lower is better)")]
    langs = sorted({lang for m in metrics.values() for lang in m})
    names = list(metrics)
    fig, axes = plt.subplots(2, 2, figsize=(12, 7))
    width = 0.8 / max(len(names), 1)
    for ax, (key, title) in zip(axes.flat, panels):
        for i, name in enumerate(names):
            vals = [metrics[name].get(lang, {}).get(key) for lang in langs]
            xs = [j + i * width for j, v in enumerate(vals) if v is not None]
            ys = [v for v in vals if v is not None]
            if ys:
                ax.bar(xs, ys, width, label=MODEL_LABEL.get(name, name))
        ax.set_xticks([j + width * (len(names) - 1) / 2 for j in range(len(langs))])
        ax.set_xticklabels(langs)
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def corpus_sources(corpus_dir):
    """(split, lang, package, version, licence) -> (files, chars)."""
    out = defaultdict(lambda: [0, 0])
    for split in ("train", "heldout"):
        with lzma.open(os.path.join(corpus_dir, f"{split}.jsonl.xz"), "rt") as f:
            for line in f:
                d = json.loads(line)
                k = (split, d.get("lang", "?"), d.get("package", "?"), d.get("version", ""), d.get("license", "?"))
                out[k][0] += 1
                out[k][1] += len(d["text"])
    return out


def fmt(v, nd=1):
    return "–" if v is None else (f"{v:.{nd}f}" if isinstance(v, float) else str(v))


def write_card(model_dir, ev, sources, plots):
    m = ev["metrics"]
    names = list(m)
    langs = sorted({lang for x in m.values() for lang in x})
    tr = ev.get("training", {})
    L = []
    L.append(f"# {os.path.basename(os.path.normpath(model_dir))}: a small Mamba-2 code model\n")
    L.append("Trained from scratch for mamba-complete by `training/` (issue 3) on permissively licensed source code, "
             "for line completion, fill-in-the-middle and doc-comment summaries inside the editor. "
             "Every number below was measured by `training/eval.py` and `training/metrics.py` on the held-out split "
             "(held out by package, never by file).\n")
    shape = ev.get("shape", {})
    if shape:
        L.append("## Model\n")
        L.append(f"- Mamba-2 blocks (in_proj -> [z, xBC, dt], causal depthwise conv, SSD with a scalar A per head, D skip, "
                 f"gated RMSNorm over all {shape.get('d_inner')} channels, out_proj), pre-norm residuals, tied embeddings.")
        L.append(f"- d_model {shape.get('hidden_size')}, {shape.get('num_hidden_layers')} layers, expand 2, "
                 f"{shape.get('num_heads')} heads of {shape.get('head_dim')}, d_state {shape.get('state_size')}, "
                 f"n_groups {shape.get('n_groups')}, conv {shape.get('conv_kernel')}, vocabulary {shape.get('vocab_size')}: "
                 f"{(shape.get('params') or 0) / 1e6:.2f}M parameters.")
        L.append(f"- Recurrent state the extension caches per checkpoint: {shape.get('state_floats')} floats = "
                 f"{shape.get('state_floats', 0) * 4 / 2**20:.2f} MiB in fp32 ({shape.get('state_floats', 0) * 2 / 2**20:.2f} MiB in fp16).")
        L.append("- Hugging Face `Mamba2ForCausalLM` format (config.json + safetensors; `norm_group_size` = d_inner).")
        hf = (ev.get("hf_check") or {}).get("mamba2")
        if hf and "max_abs_diff" in hf:
            L.append(f"- `transformers` 5.17 `Mamba2ForCausalLM.from_pretrained` on the checkpoint gives the training code's "
                     f"logits to {hf['max_abs_diff']:.2e} (largest |logit| {hf['logit_scale']:.1f}; fp32, {hf['tokens']} tokens; "
                     f"argmax agreement {hf['argmax_agreement']:.3f}).")
        L.append("")
    L.append("## Prompt formats (all begin a file the same way, so one cached state serves all three)\n")
    L.append("```\ncompletion       <|file|>{prefix}\nfill-in-middle   <|file|>{prefix}<|fim_suffix|>{suffix, <= 256 tokens}<|fim_middle|>  -> middle, <|endoftext|>\n"
             "summary          <|file|>{code of a unit, its doc removed}<|summary|>  -> first sentence of the doc, <|endoftext|>\n```\n")
    L.append("Tokenizer: byte-level BPE, 16384 tokens, trained on the training split (`training/tokenizer.py`). Every newline is a token "
             "and a line's indentation a piece of its own, so a cursor at a line start or after the indentation is always a token "
             "boundary.\n")
    if tr:
        L.append("## Training\n")
        L.append("| model | params | steps | tokens | training s | tokens/s | compile s | peak GPU GiB |")
        L.append("|---|---|---|---|---|---|---|---|")
        for name, s in tr.items():
            L.append(f"| {MODEL_LABEL.get(name, name)} | {(s.get('params') or 0) / 1e6:.2f}M | {s.get('step')} | {(s.get('tokens') or 0) / 1e6:.0f}M | "
                     f"{(s.get('train_seconds') or 0):.0f} | {(s.get('tokens_per_s') or 0):,.0f} | {fmt(s.get('compile_s'), 0)} | {fmt(s.get('max_memory_gib'))} |")
        L.append("")
        gpu = next((s["gpu"] for s in tr.values() if s.get("gpu")), "H100")
        gpu = gpu.replace("NVIDIA ", "").split(" ")[0] if gpu.startswith("NVIDIA") else gpu
        L.append(f"One {gpu} (device tool), bf16 autocast, torch.compile, AdamW (0.9, 0.95), weight decay 0.1 on matrices, "
                 "batch 32 x 2048 tokens, warm-up 100 steps then cosine to 10%, gradient clip 1.0"
                 + (", peak learning rate " + ", ".join(f"{MODEL_LABEL.get(n, n).split(' (')[0]} {s['lr']:g}" for n, s in tr.items() if s.get("lr"))
                    if any(s.get("lr") for s in tr.values()) else "") + ". The transformer baseline "
                 "(6 layers, width 512, SwiGLU 1408, RoPE, tied embeddings) saw the same rows in the same order for the same "
                 "number of steps, capped at the Mamba-2 run's training seconds.\n")
        if ev.get("data"):
            d = ev["data"]
            L.append(f"Training rows: {d.get('rows')} x {d.get('seq_len')} tokens from {d.get('documents')} documents "
                     f"({d.get('chars', 0) / 1e6:.0f}M characters); objectives (examples / tokens): "
                     + ", ".join(f"{k} {v['examples']} / {v['tokens'] / 1e6:.1f}M" for k, v in d.get("objectives", {}).items()) + ".\n")
            if "fim_extra" in d.get("objectives", {}):
                L.append("Per document (`training/data.py`): one whole-file example, left-to-right (60%) or FIM (`fim`, 40%; "
                         "85% of those with a middle of 1-3 whole lines), up to two summaries, and about one line-level FIM "
                         "example per 2000 characters (`fim_extra`), each with its own hole: `<|file|>`, the lines before the "
                         "hole (a window of 200-3400 characters, from the file's start when the hole is near it), the <= 256-token "
                         "suffix window after it, and a middle of 1-3 lines (60/25/15%; 80% start at a line, 20% inside one). "
                         + (f"Each document in {d.get('variants')} variants with different random choices.\n" if d.get("variants", 1) > 1
                          else "Each document once.\n"))
    if "loss" in plots:
        L.append("![training loss](loss_curves.png)\n")
    L.append("## Evaluation (held-out packages)\n")
    L.append("Next line: cursor at a random line start, prefix only (last 1024 tokens), greedy to the first newline, "
             "compared without trailing whitespace. FIM: one line removed, prefix and suffix given. Summary: a documented "
             "function/class with its doc removed, greedy after `<|summary|>`, against the doc's first sentence. "
             "Edit similarity = 1 - Levenshtein / longer length. n = samples per language.\n")
    cols = [("bits_per_byte", "bits/byte", 3), ("nextline_exact_match", "next-line EM %", 1), ("nextline_edit_similarity", "next-line edit sim %", 1),
            ("fim_exact_match", "FIM EM %", 1), ("summary_bleu4", "summary BLEU-4", 1), ("summary_rougeL", "summary ROUGE-L", 1)]
    if ev.get("baselines_from"):
        L.append(f"The baselines' rows were not re-run for this model: {ev['baselines_from']}; `training/finish.py` checks "
                 "that every language and copy-breakdown category has the same sample counts.\n")
    L.append("| language | model | " + " | ".join(c[1] for c in cols) + " | n (line / FIM / summary) |")
    L.append("|---|---|" + "---|" * len(cols) + "---|")
    for lang in langs:
        for name in names:
            r = m[name].get(lang, {})
            L.append(f"| {lang} | {MODEL_LABEL.get(name, name)} | " + " | ".join(fmt(r.get(k), nd) for k, _, nd in cols)
                     + f" | {r.get('nextline_samples', 0)} / {r.get('fim_samples', 0)} / {r.get('summary_samples', 0)} |")
    L.append("")
    if "mamba2" in m and "transformer" in m and "ngram" in m:
        L.append("Against the issue's target (beat both baselines on next-line and FIM exact match in every language), "
                 "counted from the table above:\n")
        for task in ("nextline_exact_match", "fim_exact_match"):
            wins = [lang for lang in langs if all(m["mamba2"].get(lang, {}).get(task, 0) > m[b].get(lang, {}).get(task, 0)
                                                   for b in ("transformer", "ngram"))]
            L.append(f"- {task}: Mamba-2 beats both in {len(wins)} of {len(langs)} languages ({', '.join(wins) or 'none'}).")
        L.append("")
    gaps = ev.get("paired_gaps")
    if gaps:
        L.append(f"Is each gap beyond the samples' noise? `training/paired_gap.py`: {MODEL_LABEL.get(gaps['model'], gaps['model'])} "
                 "minus the baseline in exact-match points on the same samples, with a 95% interval from "
                 f"{gaps['rounds']} bootstrap rounds over held-out documents (samples of one document move together). "
                 "\\* marks an interval that excludes 0. It covers the choice of samples, not a second training run of "
                 "either model (`training/runs/baselines_rerun_h200.md`: a rerun of the transformer's recipe moved its "
                 "per-language exact match by up to 2.25 points). Predictions: " + ", ".join(f"`{r}`" for r in gaps["raw"]) + ".\n")
        L.append("| baseline | task | " + " | ".join(langs) + " |")
        L.append("|---|---|" + "---|" * len(langs))
        for b in gaps["baselines"]:
            for task in ("nextline", "fim"):
                cells = []
                for lang in langs:
                    r = gaps["rows"].get(f"{b}/{task}/{lang}")
                    lo, hi = r["ci95"] if r else (0, 0)
                    mark = "" if lo <= 0 <= hi else " \\*"
                    cells.append(f"{r['gap']:+.1f} [{lo:+.1f}, {hi:+.1f}]{mark}" if r else "-")
                L.append(f"| {MODEL_LABEL.get(b, b)} | {task} | " + " | ".join(cells) + " |")
        L.append("")
    rule = ev.get("copy_rule")
    if rule and "transformer" in m and "ngram" in m:
        L.append("## With the engine's copy stage\n")
        L.append("The extension completes with a rule in front of the model (completion stage 6, "
                 "`engine/completion/copyCandidate.ts`; `training/copy_rule.py` is the same rule): where the cursor's last "
                 f"{rule['context_lines']['nextline']} lines occurred earlier in the file, the line that followed them there "
                 f"is the completion; for FIM, {rule['context_lines']['fim']} line before the hole and the line after it must "
                 "match. Elsewhere the model completes. The rule's settings were chosen on samples from the training split "
                 "(`training/runs/copy_rule.md`). Scored by `training/copy_scores.py` from the predictions of "
                 f"`{rule['model']}` (the bundle, int8) on the same held-out samples.")
        base = rule.get("baselines")
        if base and not {"transformer", "ngram"} <= set(base):
            base = None  # the like-for-like table needs both baselines' predictions
        if base:
            # the baselines' predictions come from a rerun of their recipe (the table above has the first run's)
            L[-1] += (" The baselines get the same rule, from the predictions of a rerun of their training recipe "
                     "(" + ", ".join(f"`{r}`" for r in rule.get("baselines_raw", [])) + "); *alone* is that rerun, "
                     "so it can differ from the table above by the run-to-run spread.\n")
            L.append("| language | task | rule fired | rule right | Mamba-2 alone EM % | Mamba-2 + rule | transformer (rerun) alone | "
                     "transformer + rule | 4-gram + rule |")
            L.append("|---|---|---|---|---|---|---|---|---|")
        else:
            L[-1] += (" **The baselines are shown without the rule**: their per-sample predictions were not kept, so what "
                     "the rule would add to them is not measured.\n")
            L.append("| language | task | rule fired | rule right | Mamba-2 alone EM % | Mamba-2 + rule EM % | transformer alone | 4-gram alone |")
            L.append("|---|---|---|---|---|---|---|---|")
        for task in ("nextline", "fim"):
            for lang in langs:
                r = rule["languages"].get(lang, {}).get(task)
                if not r:
                    continue
                head = f"| {lang} | {task} | {r['fired']} / {r['samples']} | {r['rule_right']} | {fmt(r['alone'], 1)} | {fmt(r['with_rule'], 1)} | "
                if base:
                    t, g = base["transformer"][lang][task], base["ngram"][lang][task]
                    L.append(head + f"{fmt(t['alone'], 1)} | {fmt(t['with_rule'], 1)} | {fmt(g['with_rule'], 1)} |")
                else:
                    L.append(head + f"{fmt(m['transformer'][lang].get(task + '_exact_match'), 1)} | "
                             f"{fmt(m['ngram'][lang].get(task + '_exact_match'), 1)} |")
        L.append("")
        for task in ("nextline", "fim"):
            if base:
                against, how = (lambda b, lang: base[b][lang][task]["with_rule"]), "with the rule too"
            else:
                against, how = (lambda b, lang: m[b][lang].get(task + "_exact_match", 0)), "alone"
            wins = [lang for lang in langs if rule["languages"].get(lang, {}).get(task) and all(
                rule["languages"][lang][task]["with_rule"] > against(b, lang) for b in ("transformer", "ngram"))]
            mean = sum(rule["languages"][lang][task]["with_rule"] for lang in langs) / len(langs)
            L.append(f"- {task}_exact_match with the rule: mean {mean:.1f}; beats both baselines ({how}) in {len(wins)} of "
                     f"{len(langs)} languages ({', '.join(wins) or 'none'}).")
            if base:
                tmean = sum(base["transformer"][lang][task]["with_rule"] for lang in langs) / len(langs)
                L.append(f"  The transformer with the rule: mean {tmean:.1f}.")
        L.append("")
    copy = ev.get("copy_breakdown")
    if copy:
        shown = [n for n in ("mamba2", "transformer", "ngram") if n in names]
        L.append("Where the gap is (`training/copy_breakdown.py`, all languages together): exact match by what the "
                 "removed line needs. *Line in prompt*: the same line already stands in the prompt text (the prefix, and "
                 "for FIM the suffix window; the models see the prefix's last 1024 tokens); *identifiers in prompt*: every "
                 "identifier of the line does; *new identifier*: at least one does not.\n")
        L.append("| task | the line needs | samples | " + " | ".join(MODEL_LABEL.get(n, n) for n in shown) + " |")
        L.append("|---|---|---|" + "---|" * len(shown))
        for task, cats in copy.items():
            for cat, c in cats.items():
                L.append(f"| {task} | {cat} | {c['samples']} | " + " | ".join(fmt(c["exact_match"].get(n), 1) for n in shown) + " |")
        L.append("")
    prev = (ev.get("previous_bundle") or {}).get("metrics")
    if prev and "mamba2-i8" in m:
        L.append("Against the bundle this one replaced (both int8 as bundled, same samples; previous -> this):\n")
        L.append("| language | bits/byte | next-line EM % | FIM EM % |")
        L.append("|---|---|---|---|")
        for lang in langs:
            a, b = prev.get(lang, {}), m["mamba2-i8"].get(lang, {})
            L.append(f"| {lang} | " + " | ".join(f"{fmt(a.get(k), nd)} -> {fmt(b.get(k), nd)}" for k, nd in
                                                (("bits_per_byte", 3), ("nextline_exact_match", 1), ("fim_exact_match", 1))) + " |")
        L.append("")
    if "metrics" in plots:
        L.append("![metrics per language](metrics.png)\n")
    latency = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench", "results", "transformer-latency.md")
    if os.path.exists(latency):
        # the measured table of `npm run bench:transformer`, as that file has it
        lines = open(latency).read().split("\n")
        L.append("## Completion latency against the transformer baseline\n")
        L.append("From `bench/results/transformer-latency.md` (its text says how each side was run): the engine with "
                 "this model against the baseline's shape in llama.cpp native, on the same editing scenarios.\n")
        L += [x for x in lines if x.startswith("|")] + [""] + [x for x in lines if x.startswith("Decode:")] + [""]
    if ev.get("bundle"):
        L.append("## Bundle\n")
        L.append(ev["bundle"] + "\n")
    L.append("## Data sources and licences\n")
    L.append("Only permissive licences. Built by `training/corpus/` (its manifest lists every file's sha256 and split). "
             "Per package, as recorded in the corpus files:\n")
    L.append("| split | language | package | version | licence | files | characters |")
    L.append("|---|---|---|---|---|---|---|")
    for (split, lang, pkg, ver, lic), (nf, nc) in sorted(sources.items()):
        L.append(f"| {split} | {lang} | {pkg} | {ver} | {lic} | {nf} | {nc:,} |")
    L.append("")
    L.append("## Reproduce\n")
    L.append("`training/corpus/build_corpus.py`, then `training/corpus/split_parts.py` when the corpus is larger than "
             "one device call carries. Device call 0: `bash training/device_stash.sh` (carry `.corpus-b`: leaves the "
             "second part on the machine and evaluates the bundle being replaced); call 1: `bash training/device_train.sh` "
             "(carry `.corpus`); call 2: `bash training/device_baselines.sh` (carry `.device-out/call1-small`), chained on "
             "the warm machine. Then `training/finish.py` on the CPU machine (metrics, export, this card). The "
             "environment each call ran with is in its log under `training/runs/`.\n")
    with open(os.path.join(model_dir, "README.md"), "w") as f:
        f.write("\n".join(L))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-dir", required=True)
    ap.add_argument("--runs", required=True, help="folder with mamba.csv and transformer.csv")
    ap.add_argument("--corpus", required=True)
    args = ap.parse_args()
    with open(os.path.join(args.model_dir, "eval.json")) as f:
        ev = json.load(f)
    plots = {}
    runs = {}
    for name, fn in (("mamba2", "mamba.csv"), ("transformer", "transformer.csv")):
        p = os.path.join(args.runs, fn)
        if os.path.exists(p):
            runs[MODEL_LABEL[name]] = read_csv(p)
    if runs:
        loss_plot(runs, os.path.join(args.model_dir, "loss_curves.png"))
        plots["loss"] = True
    metric_plot(ev["metrics"], os.path.join(args.model_dir, "metrics.png"))
    plots["metrics"] = True
    write_card(args.model_dir, ev, corpus_sources(args.corpus), plots)
    print("model card written to", os.path.join(args.model_dir, "README.md"))


if __name__ == "__main__":
    main()
