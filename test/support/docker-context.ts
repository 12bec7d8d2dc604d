/**
 * Builds an image from a Dockerfile the way Docker would, without a container engine: each stage is
 * a directory standing for `/`, COPY takes files from the build context minus what `.dockerignore`
 * excludes (or from an earlier stage), RUN runs in the stage's WORKDIR with the stage's ENV. Enough
 * for the Dockerfiles `renderDockerfile` writes; anything else is refused rather than guessed.
 */
import { execa } from "execa";
import { cp, mkdir, readdir, readFile, stat } from "node:fs/promises";
import { join, posix } from "node:path";

/** The image: its filesystem root and what its CMD would run. */
export interface EmulatedImage {
  readonly root: string;
  readonly workdir: string;
  readonly env: Record<string, string>;
  /** CMD, with absolute paths mapped into `root`. */
  readonly cmd: string[];
}

function ignoreMatcher(text: string): (rel: string) => boolean {
  const rules = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const negate = l.startsWith("!");
      const body = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, "");
      const re = body
        .split("/")
        .map((seg) =>
          seg === "**"
            ? ".*"
            : seg
                .replace(/[.+^${}()|[\]\\]/g, "\\$&")
                .replace(/\*/g, "[^/]*")
                .replace(/\?/g, "[^/]"),
        )
        .join("/");
      return { negate, re: new RegExp(`^${re}$`) };
    });
  // A path is excluded when it, or a directory above it, matches; the last matching rule wins.
  return (rel) => {
    let excluded = false;
    const parts = rel.split("/");
    for (const { negate, re } of rules) {
      for (let i = 1; i <= parts.length; i++) {
        if (re.test(parts.slice(0, i).join("/"))) excluded = !negate;
      }
    }
    return excluded;
  };
}

async function copyFiltered(
  from: string,
  to: string,
  rel: string,
  ignored: (rel: string) => boolean,
): Promise<void> {
  const s = await stat(join(from, rel));
  if (s.isDirectory()) {
    await mkdir(join(to), { recursive: true });
    for (const e of await readdir(join(from, rel))) {
      const child = rel === "" ? e : `${rel}/${e}`;
      if (!ignored(child)) await copyFiltered(from, join(to, e), child, ignored);
    }
  } else {
    await cp(join(from, rel), to);
  }
}

/**
 * Runs the Dockerfile's steps with `context` as the build context, stages under `work`.
 * @param env the environment RUN steps start from (PATH, npm cache settings), before the file's ENV
 */
export async function emulateDockerBuild(
  dockerfile: string,
  context: string,
  work: string,
  env: Record<string, string>,
): Promise<EmulatedImage> {
  const ignoreFile = await readFile(join(context, ".dockerignore"), "utf8").catch(() => "");
  const ignored = ignoreMatcher(ignoreFile);
  const stages = new Map<string, string>();
  let stage = { root: "", workdir: "/", env: { ...env }, cmd: [] as string[] };
  let n = 0;
  const inside = (root: string, p: string) => join(root, posix.resolve(stage.workdir, p));
  for (const raw of dockerfile.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [op, ...rest] = line.split(/\s+/);
    const arg = line.slice(op!.length).trim();
    switch (op) {
      case "FROM": {
        const root = join(work, `stage-${n++}`);
        await mkdir(root, { recursive: true });
        stage = { root, workdir: "/", env: { ...env }, cmd: [] };
        if (rest[1]?.toUpperCase() === "AS") stages.set(rest[2]!, root);
        break;
      }
      case "WORKDIR":
        stage.workdir = posix.resolve(stage.workdir, arg);
        await mkdir(join(stage.root, stage.workdir), { recursive: true });
        break;
      case "ENV":
        for (const m of arg.matchAll(/(\w+)=(\S+)/g)) stage.env[m[1]!] = m[2]!;
        break;
      case "COPY": {
        const from = /--from=(\S+)/.exec(arg)?.[1];
        const paths = rest.filter((p) => !p.startsWith("--"));
        const dest = paths.pop()!;
        for (const src of paths) {
          if (from !== undefined) {
            const fromRoot = stages.get(from);
            if (!fromRoot) throw new Error(`COPY --from=${from}: no such stage`);
            await cp(join(fromRoot, src), inside(stage.root, dest), { recursive: true });
          } else {
            const rel = posix.normalize(src).replace(/^\.\/?|\/$/g, "");
            if (rel !== "" && ignored(rel)) throw new Error(`COPY ${src}: excluded by .dockerignore`);
            const target = dest.endsWith("/") && rel !== "" ? posix.join(dest, rel) : dest;
            await copyFiltered(context, inside(stage.root, target), rel, ignored);
          }
        }
        break;
      }
      case "RUN": {
        const r = await execa("sh", ["-c", arg], {
          cwd: join(stage.root, stage.workdir),
          env: stage.env,
          extendEnv: false,
          all: true,
          reject: false,
        });
        if (r.exitCode !== 0) throw new Error(`RUN ${arg} exited ${r.exitCode}:\n${String(r.all)}`);
        break;
      }
      case "CMD":
        stage.cmd = (JSON.parse(arg) as string[]).map((a) => (a.startsWith("/") ? join(stage.root, a) : a));
        break;
      case "USER":
      case "EXPOSE":
      case "HEALTHCHECK":
        break;
      default:
        throw new Error(`the emulator does not know ${op}`);
    }
  }
  return { root: stage.root, workdir: join(stage.root, stage.workdir), env: stage.env, cmd: stage.cmd };
}
