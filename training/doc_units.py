"""Code units that carry a doc comment, for the summary objective and its evaluation.

A unit is a function, method or class together with its documentation: a Python docstring,
or a JSDoc / Javadoc / Doxygen `/** ... */` block, Rust or C++ `///` lines, or Go `//` lines just
before `func`. Each unit is returned with the doc removed from its code and the doc's first
sentence, the text the model learns to write after `<|summary|>`.
"""
import ast
import re
from dataclasses import dataclass

MAX_UNIT_CHARS = 6000
MAX_UNIT_LINES = 200


@dataclass
class DocUnit:
    before: str  # file text before the unit (and before its doc comment)
    code: str  # the unit's source with the doc removed, ending with a newline
    summary: str  # first sentence of the doc


_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_INLINE_LINK = re.compile(r"\{@(?:link|code|linkplain)\s+([^}]*)\}")


def first_sentence(doc):
    """First sentence of the first paragraph, whitespace collapsed; None when it is not prose."""
    para = []
    for line in doc.strip().splitlines():
        s = line.strip()
        if not s or s.startswith(("@", "# ", ":param", ":return", ">>>", "Args:", "Returns:", "Parameters")):
            break
        para.append(s)
    text = _INLINE_LINK.sub(r"\1", " ".join(para))
    text = re.sub(r"<[^>]{1,20}>", "", text)  # Javadoc HTML such as <p>, <code>
    text = _SENTENCE_END.split(text, maxsplit=1)[0].strip()
    words = text.split()
    if not (3 <= len(words) <= 50) or not re.search(r"[A-Za-z]{3}", text) or "TODO" in text or "http" in text:
        return None
    return " ".join(words)


def python_units(text):
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    lines = text.splitlines(keepends=True)
    units = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        doc = ast.get_docstring(node, clean=True)
        if not doc or len(node.body) < 2:
            continue
        ds = node.body[0]
        if ds.lineno == node.lineno or ds.end_lineno is None or node.end_lineno is None:
            continue
        start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
        end = node.end_lineno
        if end - start > MAX_UNIT_LINES:
            continue
        summary = first_sentence(doc)
        if summary is None:
            continue
        code = "".join(lines[start : ds.lineno - 1] + lines[ds.end_lineno : end])
        if not code.endswith("\n"):
            code += "\n"
        if len(code) > MAX_UNIT_CHARS:
            continue
        units.append(DocUnit("".join(lines[:start]), code, summary))
    return units


_DECL_WORDS = re.compile(r"\b(class|struct|interface|enum|trait|impl|fn|func|function|def)\b")
_NOT_DECL = re.compile(r"^\s*(return|if|else|for|while|switch|case|do|try|catch|throw|new|#include|#define)\b")


def _doc_comment_at(lines, i, lang):
    """(end line index exclusive, doc text) of a doc comment starting at line i, else None."""
    s = lines[i].lstrip()
    if s.startswith("/**") and not s.startswith("/**/"):
        j = i
        while j < len(lines) and "*/" not in lines[j][(lines[j].find("/**") + 3) if j == i else 0 :]:
            j += 1
            if j - i > 60:
                return None
        if j >= len(lines):
            return None
        body = []
        for k in range(i, j + 1):
            t = lines[k].strip()
            if k == i:
                t = t[3:]
            if k == j:
                t = t[: t.rfind("*/")]
            t = t.strip()
            if t.startswith("*"):
                t = t[1:].strip()
            body.append(t)
        return j + 1, "\n".join(body)
    marker = "///" if not s.startswith("////") and s.startswith("///") else ("//" if lang == "go" and s.startswith("//") and not s.startswith("///") else None)
    if marker is None:
        return None
    j = i
    body = []
    while j < len(lines) and lines[j].lstrip().startswith(marker):
        body.append(lines[j].lstrip()[len(marker):].strip())
        j += 1
    return j, "\n".join(body)


def _brace_end(lines, k):
    """Index of the line that closes the first `{` found in lines[k:k+6], or None."""
    depth = 0
    opened = False
    for j in range(k, min(len(lines), k + MAX_UNIT_LINES)):
        line = lines[j]
        if not opened and j >= k + 6:
            return None
        for ch in line:
            if ch == "{":
                depth += 1
                opened = True
            elif ch == "}":
                depth -= 1
                if opened and depth == 0:
                    return j
            elif ch == ";" and not opened:
                return None  # a declaration without a body
    return None


def brace_units(text, lang):
    lines = text.splitlines(keepends=True)
    units = []
    i = 0
    while i < len(lines):
        found = _doc_comment_at(lines, i, lang)
        if found is None:
            i += 1
            continue
        j, doc = found
        k = j
        while k < len(lines) and lines[k].lstrip().startswith(("@", "#[")):
            k += 1  # annotations and attributes between the doc and the declaration
        if k >= len(lines):
            break
        decl = lines[k]
        ok = (decl.startswith("func ") if lang == "go" else ("(" in decl or _DECL_WORDS.search(decl))) and not _NOT_DECL.match(decl)
        end = _brace_end(lines, k) if ok else None
        summary = first_sentence(doc) if end is not None else None
        if summary is not None:
            code = "".join(lines[j : end + 1])
            if not code.endswith("\n"):
                code += "\n"
            if len(code) <= MAX_UNIT_CHARS:
                units.append(DocUnit("".join(lines[:i]), code, summary))
        i = max(j, i + 1)
    return units


def doc_units(text, lang):
    if lang == "python":
        return python_units(text)
    return brace_units(text, lang)
