/**
 * A unified diff of two texts, line by line (`---`/`+++` headers, `@@` hunks with `context` lines
 * around each change). Returns "" when the texts are equal. Quadratic in the line count, which is
 * fine for configmaps and manifests.
 */
export function unifiedDiff(
  before: string,
  after: string,
  labels = { before: "before", after: "after" },
  context = 3,
): string {
  if (before === after) return "";
  const a = splitLines(before);
  const b = splitLines(after);
  // Longest common subsequence table, filled from the end so the walk below goes forwards.
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  type Op = { tag: " " | "-" | "+"; text: string; ai: number; bi: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) ops.push({ tag: " ", text: a[i++]!, ai: i, bi: ++j });
    // Deletions before insertions, as diff(1) prints them.
    else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!))
      ops.push({ tag: "-", text: a[i++]!, ai: i, bi: j });
    else ops.push({ tag: "+", text: b[j++]!, ai: i, bi: j });
  }
  const out = [`--- ${labels.before}`, `+++ ${labels.after}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.tag === " ") {
      k++;
      continue;
    }
    // Grow a hunk until `2 * context` unchanged lines separate it from the next change.
    const start = Math.max(0, k - context);
    let end = k;
    let quiet = 0;
    for (let m = k; m < ops.length; m++) {
      if (ops[m]!.tag === " ") {
        quiet++;
        if (quiet > 2 * context) break;
      } else {
        quiet = 0;
        end = m;
      }
    }
    const stop = Math.min(ops.length, end + context + 1);
    const hunk = ops.slice(start, stop);
    const aStart = countBefore(ops, start, "+");
    const bStart = countBefore(ops, start, "-");
    const aLen = hunk.filter((o) => o.tag !== "+").length;
    const bLen = hunk.filter((o) => o.tag !== "-").length;
    out.push(`@@ -${aLen ? aStart + 1 : aStart},${aLen} +${bLen ? bStart + 1 : bStart},${bLen} @@`);
    for (const o of hunk) out.push(`${o.tag}${o.text}`);
    k = stop;
  }
  return `${out.join("\n")}\n`;
}

/** Lines of `ops[0..end)` that exist on the side opposite to `skip`. */
function countBefore(ops: readonly { tag: string }[], end: number, skip: string): number {
  let n = 0;
  for (let m = 0; m < end; m++) if (ops[m]!.tag !== skip) n++;
  return n;
}

function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}
