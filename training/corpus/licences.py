"""Licence decisions for the corpus: which licence names count as permissive, and
what a Debian machine-readable copyright file (DEP-5) says about each path.

Only permissive licences are kept (the model ships inside an extension and its
training data must not carry copyleft obligations). An expression like
"GPL-2+ or Apache-2.0" is usable because one alternative is permissive; "MIT and
GPL-2" is not.
"""
import fnmatch
import re

# Matched against one licence name (case-insensitive, after trimming "+", versions kept).
PERMISSIVE = re.compile(
    r"^(mit(-0)?|expat|x11|isc|0bsd|bsd([-_ ].*)?|apache([-_ ]?2(\.0)?)?|psf.*|python.*|zlib|zlib-.*|libpng.*"
    r"|ijg|public[-_ ]?domain|unlicense|cc0.*|bsl-1\.0|boost.*|curl|openldap.*|mit[-_ ].*|expat[-_ ].*"
    r"|ntp|hpnd.*|ssleay|openssl|fsfap|fsful.*|fsfullr|permissive|sqlite.*|tcl|bzip2.*|info-zip|json"
    r"|unicode.*|blueoak.*|wtfpl|go|golang|zlib/libpng|all-permissive|lucent|u-of-i-bsd-like)$",
    re.I)
COPYLEFT = re.compile(r"gpl|mpl|epl|cddl|cpl|osl|eupl|sleepycat|artistic|cc-by-sa|ms-rl|ofl", re.I)


def _names(expr):
    return [t for t in re.split(r"\s+(?:or|and)\s+|[()|,/]|\s+OR\s+|\s+AND\s+", expr.strip()) if t.strip()]


def is_permissive_name(name):
    n = name.strip().rstrip("+").strip()
    n = re.sub(r"\s+with\s+.*exception.*$", "", n, flags=re.I)  # "GPL-2 with ... exception" stays copyleft below
    if COPYLEFT.search(n):
        return False
    return bool(PERMISSIVE.match(n))


def is_permissive_expr(expr):
    """True when the SPDX/DEP-5 style expression can be satisfied with permissive licences only."""
    if not expr or not isinstance(expr, str):
        return False
    e = expr.strip()
    # Alternatives: any permissive alternative suffices.
    for alt in re.split(r"\s+or\s+|\s*\|\s*", e, flags=re.I):
        alt = alt.strip().strip("()").strip()
        parts = [p for p in re.split(r"\s+and\s+|,\s*", alt, flags=re.I) if p.strip()]
        if parts and all(is_permissive_name(p.strip("() ")) for p in parts):
            return True
    return False


def parse_dep5(text):
    """Paragraphs of a DEP-5 file as dicts of field -> value (continuation lines joined)."""
    paras, cur, key = [], {}, None
    for line in text.splitlines():
        if not line.strip():
            if cur:
                paras.append(cur)
            cur, key = {}, None
            continue
        if line[0] in " \t":
            if key:
                cur[key] += "\n" + line.strip()
            continue
        m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
        if m:
            key = m.group(1).lower()
            cur[key] = m.group(2)
    if cur:
        paras.append(cur)
    return paras


def copyright_licences(path):
    """(rules, summary) from a debian/copyright file.

    rules: [(pattern, licence, permissive)] in file order (the last matching pattern
    wins, as DEP-5 says), or None when the file is not machine-readable.
    summary: the licence of "Files: *", or an UNKNOWN marker.
    """
    if not path:
        return None, "UNKNOWN (no debian/copyright)"
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if not re.search(r"^Format:\s*\S*(copyright-format|dep5|DEP-5)", text, re.M | re.I):
        return None, "UNKNOWN (debian/copyright not machine-readable)"
    rules, summary = [], None
    for p in parse_dep5(text):
        if "files" not in p or "license" not in p:
            continue
        lic = p["license"].split("\n")[0].strip()
        ok = is_permissive_expr(lic)
        for pat in p["files"].split():
            rules.append((pat, lic, ok))
            if pat == "*" and summary is None:
                summary = lic
    return rules, summary or "UNKNOWN (no Files: * stanza)"


def path_licence(rules, relpath):
    """(licence, permissive) for a path relative to the upstream source root; last match wins."""
    hit = None
    for pat, lic, ok in rules:
        if fnmatch.fnmatchcase(relpath, pat) or fnmatch.fnmatchcase(relpath, pat.rstrip("/") + "/*"):
            hit = (lic, ok)
    return hit or ("UNKNOWN (no matching Files stanza)", False)
