#!/usr/bin/env python3
"""Download and unpack every pinned source package of the code corpus.

Reads pins.json (ecosystem, name, exact version), fetches each package with the
ecosystem's own client, unpacks it under SRC_ROOT/<ecosystem>/<name>/, finds its
licence, and writes sources.json: one entry per package with version, licence,
how it was fetched, and whether the licence is permissive enough to use.

  npm     `npm pack NAME@VERSION`; licence = package.json "license"
  debsrc  `apt-get source --download-only NAME=VERSION` from Debian's deb-src
          index (bookworm); licence = debian/copyright (DEP-5)
  debbin  `apt-get download NAME=VERSION` (binary packages that carry sources:
          golang-1.19-src, rust-src, the Python standard library); licence =
          usr/share/doc/NAME/copyright

Usage: python3 fetch_sources.py [--src-root /tmp/corpus-src] [--jobs 6] [--extra-pins more_pins.json]
Re-running skips packages already unpacked.
"""
import argparse
import concurrent.futures as cf
import glob
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import time

from licences import copyright_licences, is_permissive_expr

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_SOURCES = """Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def apt_src_opts(root):
    """apt options that use a private deb-src index, leaving the system's apt config alone."""
    lists = os.path.join(root, "_aptsrc", "lists")
    return ["-o", f"Dir::Etc::SourceList={os.path.join(root, '_aptsrc', 'src.sources')}",
            "-o", "Dir::Etc::SourceParts=/dev/null", "-o", f"Dir::State::Lists={lists}"]


def prepare_apt_src(root):
    os.makedirs(os.path.join(root, "_aptsrc", "lists", "partial"), exist_ok=True)
    with open(os.path.join(root, "_aptsrc", "src.sources"), "w") as f:
        f.write(SRC_SOURCES)
    subprocess.run(["apt-get", *apt_src_opts(root), "update"], check=True, stdout=subprocess.DEVNULL)


def safe_extract(tar_path, dest):
    with tarfile.open(tar_path) as t:
        members = [m for m in t.getmembers() if (m.isfile() or m.isdir())
                   and not m.name.startswith("/") and ".." not in m.name.split("/")]
        t.extractall(dest, members=members)


def fetch_npm(pin, dest, tmp):
    out = subprocess.run(["npm", "pack", f"{pin['name']}@{pin['version']}", "--pack-destination", tmp,
                          "--silent"], check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    safe_extract(os.path.join(tmp, out), dest)
    # npm tarballs hold one top folder, usually "package/" (DefinitelyTyped uses the package name)
    top = [d for d in os.listdir(dest) if d != "_download"][0]
    with open(os.path.join(dest, top, "package.json"), encoding="utf-8") as f:
        meta = json.load(f)
    lic = meta.get("license")
    if isinstance(lic, dict):
        lic = lic.get("type")
    if lic is None and isinstance(meta.get("licenses"), list):
        lic = " OR ".join(l.get("type", "?") for l in meta["licenses"])
    return {"license": lic or "UNKNOWN", "fetched_with": f"npm pack {pin['name']}@{pin['version']}",
            "root": os.path.join(dest, top)}


def fetch_debsrc(pin, dest, tmp, root):
    spec = f"{pin['name']}={pin['version']}"
    subprocess.run(["apt-get", *apt_src_opts(root), "source", "--download-only", spec], cwd=tmp, check=True,
                   capture_output=True)
    tars = sorted(t for t in glob.glob(os.path.join(tmp, "*.tar.*")) if not t.endswith(".asc"))
    unpacked = os.path.join(dest, "src")
    os.makedirs(unpacked, exist_ok=True)
    for t in tars:
        # orig tarballs carry one top-level folder; debian.tar.* carries debian/
        safe_extract(t, unpacked)
    tops = [d for d in os.listdir(unpacked) if d != "debian"]
    copyright_path = os.path.join(unpacked, "debian", "copyright")
    if not os.path.exists(copyright_path):  # native packages keep debian/ inside the top folder
        hits = glob.glob(os.path.join(unpacked, "*", "debian", "copyright"))
        copyright_path = hits[0] if hits else None
    return {"fetched_with": f"apt-get source --download-only {spec} (Debian bookworm deb-src)",
            "root": unpacked, "copyright": copyright_path, "top_dirs": tops}


_lists_refreshed = False
_lists_lock = threading.Lock()


def refresh_apt_lists():
    # under a lock, and again while it fails: the other threads' `apt-get download` can hold apt's
    # lock, and an update that lost that race once left the pin missing (seen 2026-12-02)
    global _lists_refreshed
    with _lists_lock:
        for _ in range(5):
            if _lists_refreshed:
                return
            _lists_refreshed = subprocess.run(["apt-get", "update", "-qq"], capture_output=True).returncode == 0
            if not _lists_refreshed:
                time.sleep(3)


def fetch_debbin(pin, dest, tmp):
    spec = f"{pin['name']}={pin['version']}"
    if subprocess.run(["apt-get", "download", spec], cwd=tmp, capture_output=True).returncode != 0:
        # a fresh machine's package lists can predate the pinned version (seen: libpython3.11-stdlib
        # deb12u9 against lists that knew deb12u8): read the lists again once, then try again
        refresh_apt_lists()
        subprocess.run(["apt-get", "download", spec], cwd=tmp, check=True, capture_output=True)
    deb = glob.glob(os.path.join(tmp, "*.deb"))[0]
    unpacked = os.path.join(dest, "root")
    subprocess.run(["dpkg-deb", "-x", deb, unpacked], check=True)
    cp = os.path.join(unpacked, "usr", "share", "doc", pin["name"], "copyright")
    return {"fetched_with": f"apt-get download {spec} (Debian bookworm binary package)", "root": unpacked,
            "copyright": cp if os.path.exists(cp) else None}


def fetch_one(pin, root):
    dest = os.path.join(root, pin["ecosystem"], pin["name"].replace("/", "__"))
    done = os.path.join(dest, ".fetched.json")
    if os.path.exists(done):
        with open(done) as f:
            return json.load(f)
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    tmp = os.path.join(dest, "_download")
    os.makedirs(tmp)
    eco = pin["ecosystem"]
    if eco == "npm":
        info = fetch_npm(pin, dest, tmp)
        info["license_rules"] = None
    elif eco in ("debsrc", "debbin"):
        info = fetch_debsrc(pin, dest, tmp, root) if eco == "debsrc" else fetch_debbin(pin, dest, tmp)
        rules, summary = copyright_licences(info.get("copyright"))
        info["license_rules"] = rules
        info["license"] = summary
    else:
        raise ValueError(f"unknown ecosystem {eco!r} in pins.json entry {pin['name']}")
    shutil.rmtree(tmp)
    if pin.get("license_override"):
        # the DEP-5 rules (if any) still decide file by file; the override names the package's licence
        info["license"] = info["license_override"] = pin["license_override"]
    info.update({"name": pin["name"], "version": pin["version"], "ecosystem": eco})
    if pin.get("note"):
        info["note"] = pin["note"]
    with open(done, "w") as f:
        json.dump(info, f)
    return info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src-root", default="/tmp/corpus-src")
    ap.add_argument("--jobs", type=int, default=6)
    ap.add_argument("--extra-pins", default=None,
                    help="more pins (pins.json's format) fetched as well, for a corpus not yet trained on")
    args = ap.parse_args()
    with open(os.path.join(HERE, "pins.json")) as f:
        pins = json.load(f)
    if args.extra_pins:
        with open(args.extra_pins) as f:
            pins += json.load(f)
    os.makedirs(args.src_root, exist_ok=True)
    if any(p["ecosystem"] == "debsrc" for p in pins):
        prepare_apt_src(args.src_root)
    results, failures = [], []
    with cf.ThreadPoolExecutor(args.jobs) as ex:
        futs = {ex.submit(fetch_one, p, args.src_root): p for p in pins}
        for fut in cf.as_completed(futs):
            p = futs[fut]
            try:
                results.append(fut.result())
            except Exception as e:  # a package that fails to fetch is recorded and left out
                detail = getattr(e, "stderr", b"") or b""
                detail = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
                failures.append({"name": p["name"], "ecosystem": p["ecosystem"], "version": p["version"],
                                 "error": f"{e} {detail.strip()[-300:]}"})
                print(f"FAILED {p['ecosystem']} {p['name']}: {e}", file=sys.stderr)
    sources = []
    for r in sorted(results, key=lambda r: (r["ecosystem"], r["name"])):
        rules = r.get("license_rules")
        if rules is not None:  # re-judge on every run so a change to licences.py applies without re-fetching
            rules = [(pat, lic, is_permissive_expr(lic)) for pat, lic, _ in rules]
        if rules is None or "license_override" in r:
            permissive = is_permissive_expr(r["license"])
        else:
            # usable when the licence of the main stanza (Files: *) is permissive;
            # files under non-permissive stanzas are dropped file by file in the build
            permissive = any(pat == "*" and ok for pat, _, ok in rules)
        sources.append({"name": r["name"], "version": r["version"], "ecosystem": r["ecosystem"],
                        "license": r["license"], "permissive": permissive, "fetched_with": r["fetched_with"],
                        "root": r["root"], "license_rules": rules, **({"note": r["note"]} if "note" in r else {})})
    with open(os.path.join(args.src_root, "sources.full.json"), "w") as f:
        json.dump({"sources": sources, "failures": failures}, f, indent=1)
    print(f"fetched {len(results)} packages, {len(failures)} failures; "
          f"{sum(s['permissive'] for s in sources)} permissive")


if __name__ == "__main__":
    main()
