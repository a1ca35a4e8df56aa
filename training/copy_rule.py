"""The line a file repeats: where the cursor's last k lines occurred earlier in the file, the line
that followed them there (the most recent such place). A recurrent model holds the file only in
its fixed state, and most of the transformer baseline's next-line lead is on lines already in the
prompt (copy_breakdown.py); this rule proposes such a line and the model then judges it
(copy_eval.py), as the engine's completer does (engine/completion/copyCandidate.ts).
"""


def copy_candidate(prefix, k=2, next_line=None):
    """prefix: the text before the cursor, ending at a line start. next_line: for fill-in-the-middle,
    the line after the hole, which the earlier place must also have. Returns the line, or None."""
    lines = prefix.split("\n")[:-1]  # the prefix ends with "\n": its last element is the cursor's empty line
    if len(lines) < k + 1:
        return None
    ctx = lines[-k:]
    if not any(line.strip() for line in ctx):
        return None  # blank lines repeat everywhere: they say nothing about what comes next
    for i in range(len(lines) - k - 1, -1, -1):
        if lines[i : i + k] == ctx and i + k < len(lines):
            if next_line is not None and (i + k + 1 >= len(lines) or lines[i + k + 1] != next_line):
                continue
            cand = lines[i + k].rstrip()
            return cand if cand.strip() else None
    return None
