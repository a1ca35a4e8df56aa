"""The n-gram baseline: a token 4-gram completer with back-off, built from the training rows.

For each context of 3, 2 and 1 tokens it keeps the most frequent next token; a prediction uses the
longest context seen in training (the greedy choice of a back-off model), else the most frequent
token. Tables are sorted arrays of packed keys (token ids < 2^16), searched with searchsorted,
so building from 40M tokens takes seconds with numpy alone.
"""
import numpy as np


class NGramCompleter:
    def __init__(self, stream, vocab_size, order=4):
        stream = np.asarray(stream, dtype=np.int64)
        self.V = vocab_size
        self.tables = []  # (context length, sorted context keys, best next token), longest first
        for n in range(order - 1, 0, -1):
            ctx = np.zeros(len(stream) - n, dtype=np.int64)
            for i in range(n):
                ctx = ctx * self.V + stream[i : len(stream) - n + i]
            key = ctx * self.V + stream[n:]
            uniq, counts = np.unique(key, return_counts=True)
            c, nxt = uniq // self.V, uniq % self.V
            o = np.lexsort((-counts, c))  # by context, most frequent next first
            c, nxt = c[o], nxt[o]
            first = np.r_[True, c[1:] != c[:-1]]
            self.tables.append((n, c[first], nxt[first]))
        self.unigram = int(np.bincount(stream, minlength=self.V).argmax())

    def next_tokens(self, seqs):
        """Most likely next token of each sequence (lists of ids)."""
        out = np.full(len(seqs), self.unigram, dtype=np.int64)
        done = np.zeros(len(seqs), dtype=bool)
        for n, keys, best in self.tables:
            ctx = np.array([self._key(s[-n:]) if len(s) >= n else -1 for s in seqs], dtype=np.int64)
            pos = np.clip(np.searchsorted(keys, ctx), 0, len(keys) - 1)
            hit = (keys[pos] == ctx) & ~done & (ctx >= 0)
            out[hit] = best[pos[hit]]
            done |= hit
        return out

    def _key(self, toks):
        k = 0
        for t in toks:
            k = k * self.V + int(t)
        return k

    def greedy(self, prompts, max_new, stop_list):
        seqs = [list(p) for p in prompts]
        gens = [[] for _ in prompts]
        live = list(range(len(prompts)))
        for _ in range(max_new):
            if not live:
                break
            nxt = self.next_tokens([seqs[i] for i in live])
            still = []
            for i, t in zip(live, nxt.tolist()):
                seqs[i].append(t)
                gens[i].append(t)
                if not stop_list[t]:
                    still.append(i)
            live = still
        return gens
