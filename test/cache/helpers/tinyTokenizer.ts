/**
 * Builds a small byte-level BPE tokenizer.json (valid for @huggingface/tokenizers) by training
 * merges on a sample of code, with the special tokens of the model's prompt formats.
 */
import { SPECIAL_TOKENS } from '../../../engine/cache/textTokenizer.ts';
import { ByteLevelTokenizer } from '../../../engine/cache/byteLevelTokenizer.ts';

const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
/** GPT-4-style split, closer to what code tokenizers use: newlines kept with punctuation, digits in threes. */
const CODE_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export const SAMPLE_CODE = `import { readFile } from 'node:fs/promises';

export interface Options {
  name: string;
  count: number;
}

/** Counts the words of a file. */
export async function countWords(path: string, options: Options): Promise<number> {
  const text = await readFile(path, 'utf8');
  let count = 0;
  for (const line of text.split('\\n')) {
    if (line.trim().length === 0) continue;
    count += line.split(/\\s+/).length;
  }
  return count * options.count;
}

def fibonacci(n):
    """Returns the n-th Fibonacci number."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a

class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm(self):
        return (self.x ** 2 + self.y ** 2) ** 0.5

func main() {
	fmt.Println("hello, world")
	for i := 0; i < 10; i++ {
		if i%2 == 0 {
			continue
		}
	}
}
`;

function byteToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  const table: string[] = [];
  bs.forEach((b, i) => (table[b] = String.fromCharCode(cs[i])));
  return table;
}

export function buildTinyTokenizerJson(opts: { merges?: number; pattern?: 'gpt2' | 'code'; corpus?: string } = {}): object {
  const nMerges = opts.merges ?? 120;
  const pattern = opts.pattern ?? 'gpt2';
  const corpus = opts.corpus ?? SAMPLE_CODE;
  const b2u = byteToUnicode();
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[b2u[b]] = b;
  // JS RegExp has no inline (?i:...): the contractions are case-sensitive here, which only affects merge training
  const regex = new RegExp(pattern === 'gpt2' ? GPT2_PATTERN : CODE_PATTERN.replace('(?i:', '(?:'), 'gu');
  const enc = new TextEncoder();
  // word -> count, each word a list of symbols
  const counts = new Map<string, number>();
  for (const m of corpus.matchAll(regex)) {
    const w = Array.from(enc.encode(m[0]), (b) => b2u[b]).join('\u0000');
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  let words = [...counts].map(([w, c]) => ({ syms: w.split('\u0000'), c }));
  const merges: [string, string][] = [];
  for (let k = 0; k < nMerges; k++) {
    const pairs = new Map<string, number>();
    for (const { syms, c } of words) for (let i = 0; i + 1 < syms.length; i++) {
      const key = syms[i] + '\u0000' + syms[i + 1];
      pairs.set(key, (pairs.get(key) ?? 0) + c);
    }
    let best = '';
    let bestC = 1;
    for (const [p, c] of pairs) if (c > bestC || (c === bestC && best !== '' && p < best)) { best = p; bestC = c; }
    if (!best) break;
    const [a, b] = best.split('\u0000');
    merges.push([a, b]);
    vocab[a + b] = Object.keys(vocab).length;
    words = words.map(({ syms, c }) => {
      const out: string[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) { out.push(a + b); i++; } else out.push(syms[i]);
      }
      return { syms: out, c };
    });
  }
  const nextId = Object.keys(vocab).length;
  const added = Object.values(SPECIAL_TOKENS).map((content, i) => ({
    id: nextId + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  }));
  for (const a of added) vocab[a.content] = a.id;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: pattern === 'gpt2' };
  const preTokenizer = pattern === 'gpt2'
    ? byteLevel
    : { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: CODE_PATTERN }, behavior: 'Isolated', invert: false }, byteLevel] };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: preTokenizer,
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges,
    },
  };
}

export function tinyTokenizer(opts: Parameters<typeof buildTinyTokenizerJson>[0] = {}): ByteLevelTokenizer {
  return new ByteLevelTokenizer(buildTinyTokenizerJson(opts), {});
}
