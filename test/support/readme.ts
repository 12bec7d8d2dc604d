import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const readmePath = fileURLToPath(new URL("../../README.md", import.meta.url));

/** The README Quickstart's first shell command, as a reader copies it (without its comment). */
export async function readmeQuickstart(): Promise<string> {
  const readme = await readFile(readmePath, "utf8");
  const section = readme.slice(readme.indexOf("## Quickstart"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  return block
    .split("\n")[0]!
    .replace(/\s+#.*$/, "")
    .trim();
}

/** The README's fenced code block that follows `heading` (its first block of `lang`). */
export async function readmeBlock(heading: string, lang: string): Promise<string> {
  const readme = await readFile(readmePath, "utf8");
  const at = readme.indexOf(heading);
  if (at < 0) throw new Error(`README.md has no "${heading}"`);
  const block = new RegExp("```" + lang + "\\n([\\s\\S]*?)```").exec(readme.slice(at))?.[1];
  if (block === undefined) throw new Error(`README.md has no ${lang} block after "${heading}"`);
  return block;
}
