"""After the device calls (CPU machine): assemble the checkpoint, score, export and write the card.

    python3 training/finish.py --call1 DIR --call2 DIR --name mamba2-code-28m [--weights i8]
    python3 training/finish.py --call1 DIR --baselines-from models/mamba2-code-28m/eval.json
    python3 training/finish.py --earlier-calls DIR DIR --call1 DIR --run NAME --baselines-from ...

DIR are the folders the device tool copied $OUT into. --baselines-from takes the baselines' rows
(and the replaced bundle's, from its int8 row) out of an earlier eval.json measured on the same
held-out samples, so a new Mamba-2 run needs no device time for baselines that did not change. A run
chained over several calls gives the calls before the last as --earlier-calls (their mamba.csv rows
go in front of the last call's, their logs with it); --run NAME keeps its logs as device_NAME.log and
its per-sample outputs as raw/raw_NAME_*.json.xz, beside the earlier runs' instead of over them. Writes .device-out/final/ (config.json,
model.safetensors, tokenizer.json: the Hugging Face checkpoint), training/runs/*.csv,
models/NAME/ (the bundle from training/export/export_bundle.py, eval.json, README.md, plots).
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--call1", required=True)
    ap.add_argument("--call2", default=None)
    ap.add_argument("--earlier-calls", nargs="*", default=[], help="a chained run's calls before --call1, in order")
    ap.add_argument("--run", default=None, help="the run's name: device_NAME.log, raw/raw_NAME_*.json.xz")
    ap.add_argument("--name", default="mamba2-code-28m")
    ap.add_argument("--weights", default="i8")
    ap.add_argument("--skip-export", action="store_true")
    ap.add_argument("--previous", default=None,
                    help="eval.py output of the bundle being replaced (device_baselines.sh's old_bundle.json.xz): shown beside")
    ap.add_argument("--previous-model", default=None, help="the model of --previous to show (default: its first)")
    ap.add_argument("--baselines-from", default=None,
                    help="an earlier eval.json on the same samples: its transformer and n-gram rows, and its mamba2-i8 row as the previous bundle")
    ap.add_argument("--corpus", default=os.path.join(ROOT, ".corpus"), help="the whole corpus (train + heldout), for the card's sources")
    ap.add_argument("--final", default=os.path.join(ROOT, ".device-out", "final"))
    ap.add_argument("--runs", default=os.path.join(HERE, "runs"))
    ap.add_argument("--models", default=os.path.join(ROOT, "models"))
    args = ap.parse_args()
    earlier = json.load(open(args.baselines_from)) if args.baselines_from else None  # before eval.json is rewritten
    from checkpoint_io import join_parts

    final = args.final
    os.makedirs(final, exist_ok=True)
    join_parts(args.call1, "model.safetensors", os.path.join(final, "model.safetensors"))
    with tarfile.open(os.path.join(args.call1, "small.tgz")) as t:
        t.extractall(final)
    keep = os.path.join(os.path.dirname(final), "call1-small")
    os.makedirs(keep, exist_ok=True)
    shutil.copy(os.path.join(args.call1, "small.tgz"), keep)

    runs = args.runs
    os.makedirs(runs, exist_ok=True)
    join_curves([os.path.join(d, "mamba.csv") for d in [*args.earlier_calls, args.call1]], os.path.join(runs, "mamba.csv"))
    raws = [r for r in [os.path.join(args.call1, "raw_mamba.json.xz")] if os.path.exists(r)]  # or call 2 evaluated it
    if not raws:
        raise SystemExit(f"finish: no raw_mamba.json.xz in {args.call1}: give the call that evaluated the model as --call1")
    training = {"mamba2": json.load(open(os.path.join(final, "train_state.json")))}
    if args.call2:
        shutil.copy(os.path.join(args.call2, "transformer.csv"), runs)
        raws += sorted(glob.glob(os.path.join(args.call2, "raw_*.json.xz")))
        training["transformer"] = json.load(open(os.path.join(args.call2, "transformer_state.json")))
    keep_logs(args.earlier_calls, args.call1, args.call2, runs, args.run)

    cfg = json.load(open(os.path.join(final, "config.json")))
    # Mamba2Shape's fields and state size (model.py needs torch, which the CPU machine lacks)
    fields = ("vocab_size", "hidden_size", "num_hidden_layers", "state_size", "head_dim", "expand", "n_groups",
              "conv_kernel", "layer_norm_epsilon", "chunk_size")
    d_inner = cfg["expand"] * cfg["hidden_size"]
    num_heads = d_inner // cfg["head_dim"]
    conv_dim = d_inner + 2 * cfg["n_groups"] * cfg["state_size"]
    state_floats = cfg["num_hidden_layers"] * (conv_dim * (cfg["conv_kernel"] - 1) + num_heads * cfg["head_dim"] * cfg["state_size"])
    extra = {
        "shape": {**{k: cfg[k] for k in fields}, "num_heads": num_heads, "d_inner": d_inner,
                  "params": training["mamba2"].get("params"), "state_floats": state_floats,
                  "state_bytes_fp32": 4 * state_floats},
        "training": training,
        "data": json.load(open(os.path.join(final, "train_meta.json"))),
    }
    out = os.path.join(args.models, args.name)
    os.makedirs(out, exist_ok=True)
    if not args.skip_export:
        subprocess.run([sys.executable, os.path.join(ROOT, "training/export/export_bundle.py"), "--checkpoint", final,
                        "--tokenizer", os.path.join(final, "tokenizer.json"), "--out", out, "--weights", args.weights], check=True)
        size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(out, "*")) if os.path.isfile(p))
        extra["bundle"] = (f"`models/{args.name}/`: weights `{args.weights}` (per-row int8 for in_proj, out_proj and the "
                           f"embeddings when i8), {size / 1e6:.1f} MB with prefill.onnx and step.onnx, made by "
                           f"`training/export/export_bundle.py` from the checkpoint above.")
    if earlier:
        training.update({k: v for k, v in earlier["training"].items() if k != "mamba2"})
        extra["previous_bundle"] = {"metrics": earlier["metrics"]["mamba2-i8"],
                                    "note": "the bundle this one replaced, int8 as it was bundled, on the same samples"}
    if args.previous:
        subprocess.run([sys.executable, os.path.join(HERE, "metrics.py"), "--raw", args.previous, "--out", "/tmp/finish_prev.json"],
                       check=True, stdout=subprocess.DEVNULL)
        prev = json.load(open("/tmp/finish_prev.json"))["metrics"]
        extra["previous_bundle"] = {"metrics": prev[args.previous_model] if args.previous_model else next(iter(prev.values())),
                                    "note": "the bundle this one replaced, int8 as it was bundled, on the same samples"}
    from copy_breakdown import breakdown

    extra["copy_breakdown"] = breakdown(os.path.join(args.corpus, "heldout.jsonl.xz"), raws)
    with open("/tmp/finish_extra.json", "w") as f:
        json.dump(extra, f)
    cmd = [sys.executable, os.path.join(HERE, "metrics.py"), "--out", os.path.join(out, "eval.json"), "--extra", "/tmp/finish_extra.json"]
    for r in raws:
        cmd += ["--raw", r]
    subprocess.run(cmd, check=True)
    if earlier:
        carry_baselines(os.path.join(out, "eval.json"), earlier, args.baselines_from)
    keep_raws(raws, os.path.join(runs, "raw"), args.run)
    subprocess.run([sys.executable, os.path.join(HERE, "model_card.py"), "--model-dir", out, "--runs", runs,
                    "--corpus", args.corpus], check=True)


def carry_baselines(eval_path, earlier, source):
    """Adds the earlier eval.json's baseline rows to eval_path, after checking both were scored on the same samples."""
    ev = json.load(open(eval_path))
    baselines = [m for m in earlier["metrics"] if not m.startswith("mamba2")]
    for lang, m in ev["metrics"]["mamba2-i8" if "mamba2-i8" in ev["metrics"] else "mamba2"].items():
        was = earlier["metrics"]["mamba2-i8"][lang]
        for k in ("nextline_samples", "fim_samples", "summary_samples"):
            if m[k] != was[k]:
                raise SystemExit(f"finish: {lang} {k} {m[k]} != {was[k]} in {source}: not the same samples")
    for task, cats in ev["copy_breakdown"].items():
        for cat, row in cats.items():
            old = earlier["copy_breakdown"][task][cat]
            if row["samples"] != old["samples"]:
                raise SystemExit(f"finish: copy breakdown {task}/{cat} has {row['samples']} samples, {source} {old['samples']}")
            row["exact_match"].update({b: old["exact_match"][b] for b in baselines})
    for b in baselines:
        ev["metrics"][b] = earlier["metrics"][b]
        ev["eval_seconds"][b] = earlier["eval_seconds"][b]
    ev["baselines_from"] = f"{', '.join(baselines)}: carried over from {os.path.relpath(source, ROOT)} (same samples)"
    with open(eval_path, "w") as f:
        json.dump(ev, f, indent=1)


def join_curves(csvs, out):
    """One training curve from a chained run's calls, in order, with the header once."""
    with open(out, "w") as g:
        for i, path in enumerate(csvs):
            with open(path) as f:
                lines = f.readlines()
            g.writelines(lines if i == 0 else lines[1:])


def keep_logs(earlier, call1, call2, runs, run):
    """The calls' device logs: one device_RUN.log for a named run, else device_call1.log / device_call2.log."""
    calls = [d for d in [*earlier, call1, call2] if d and os.path.exists(os.path.join(d, "log.txt"))]
    if run:
        with open(os.path.join(runs, f"device_{run}.log"), "w") as g:
            for d in calls:
                g.write(f"=== {d}\n" + open(os.path.join(d, "log.txt")).read())
        return
    for d, name in ((call1, "call1"), (call2, "call2")):
        if d in calls:
            shutil.copy(os.path.join(d, "log.txt"), os.path.join(runs, f"device_{name}.log"))


def keep_raws(raws, folder, run=None):
    """Each model's per-sample outputs, committed, so a later run can score against them without re-running it."""
    os.makedirs(folder, exist_ok=True)
    for r in raws:
        name = os.path.basename(r)
        shutil.copy(r, os.path.join(folder, name.replace("raw_", f"raw_{run}_", 1) if run else name))


if __name__ == "__main__":
    main()
