"""Writes test/fixtures/copy_rule_cases.json: copy_rule.py on 300 line starts of a test file, which
test/completion/copyCandidate.test.ts checks the engine's copyCandidate.ts against (the same rule in two
languages). Run from the repository root: python3 training/tests/copy_rule_cases.py
"""
import json, random, sys
sys.path.insert(0, 'training')
from copy_rule import copy_candidate
files = ['test/e2e/workspace/_pydecimal.py']
out = []
rng = random.Random(7)
for f in files:
    text = open(f, encoding='utf-8').read()
    lines = text.split('\n')
    idx = rng.sample(range(1, len(lines)), 300)
    for i in sorted(idx):
        prefix = '\n'.join(lines[:i]) + '\n'
        nxt = lines[i + 1] if i + 1 < len(lines) else None  # fill-in-the-middle: the line after the hole
        out.append({"line": i, **{f"k{k}": copy_candidate(prefix, k) for k in (1, 2, 3)},
                    "fim_k1": copy_candidate(prefix, 1, nxt) if nxt is not None else None})
    json.dump({"file": f, "made_by": "training/copy_rule.py (see test/completion/copyCandidate.test.ts)", "cases": out},
              open('test/fixtures/copy_rule_cases.json', 'w'), indent=0)
print(len(out), sum(c['k2'] is not None for c in out), sum(c['fim_k1'] is not None for c in out))
