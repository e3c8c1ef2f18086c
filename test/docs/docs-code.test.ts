// The docs cannot drift from the code: every fenced ```ts / ```typescript block of README.md and docs/*.md is
// type-checked (strict, the project's compiler) against the library sources, and the blocks marked `<!-- run -->`
// are also executed (in a temp folder as their working directory) and must exit 0. A block marked
// `<!-- fragment -->` (a piece of a larger program) is only counted; keep those rare.
// Contributor blocks may import sources relative to the repository root (`./storage/topic-store.js`), and then
// must say so in the paragraph before them ("inside a checkout of this repository"): a package user cannot.
// Also: every relative link of the docs names a file that exists in the repository.
import test from 'ava';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tempDir } from '../temp-dir.js';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/docs -> the checkout
const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');

type Mark = 'compile' | 'run' | 'fragment';
interface Block {
  source: string; // e.g. docs/api.md
  line: number; // line of the first code line (1-based)
  mark: Mark;
  code: string;
  /** The paragraph just before the fence (and its mark), joined into one line. */
  intro: string;
}

function docFiles(): string[] {
  const docs = fs.readdirSync(path.join(repo, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  return ['README.md', 'CONTRIBUTING.md', 'CHANGELOG.md', ...docs].filter((f) => fs.existsSync(path.join(repo, f)));
}

/** Fenced TypeScript blocks; the mark is an HTML comment on the last non-blank line before the fence. */
export function extractBlocks(source: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)(`{3,})(\w*)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const [, indent, ticks, lang] = fence;
    let end = i + 1;
    while (end < lines.length && lines[end]!.trim() !== ticks) end++;
    if (lang === 'ts' || lang === 'typescript') {
      let prev = i - 1;
      while (prev >= 0 && lines[prev]!.trim() === '') prev--;
      const comment = prev >= 0 ? /^\s*<!--\s*(run|fragment)\s*-->\s*$/.exec(lines[prev]!) : null;
      const mark: Mark = comment ? (comment[1] as Mark) : 'compile';
      const code = lines.slice(i + 1, end).map((l) => (l.startsWith(indent!) ? l.slice(indent!.length) : l)).join('\n');
      if (comment) prev--; // the mark, then the blank lines before it
      while (prev >= 0 && lines[prev]!.trim() === '') prev--;
      let first = prev;
      while (first > 0 && lines[first - 1]!.trim() !== '') first--;
      const intro = prev >= 0 ? lines.slice(first, prev + 1).map((l) => l.trim()).join(' ') : '';
      blocks.push({ source, line: i + 2, mark, code, intro });
    }
    i = end; // skip the block's body (fences of other languages too)
  }
  return blocks;
}

function allBlocks(): Block[] {
  return docFiles().flatMap((f) => extractBlocks(f, fs.readFileSync(path.join(repo, f), 'utf8')));
}

const blockName = (b: Block) => `${b.source.replace(/[^\w]/g, '_')}_L${b.line}`;

test('the extractor reads marks, languages and line numbers', (t) => {
  const text = ['# t', '```ts', 'const a = 1;', '```', '', '<!-- run -->', '', '```typescript', 'a;', '```',
    '```sh', '```ts not code', '```', '<!-- fragment -->', '```ts', 'x', '```'].join('\n');
  const blocks = extractBlocks('x.md', text);
  t.deepEqual(blocks.map((b) => [b.line, b.mark, b.code]), [[3, 'compile', 'const a = 1;'], [9, 'run', 'a;'], [16, 'fragment', 'x']]);
  const intros = extractBlocks('y.md', ['# t', '', 'Some', 'text:', '', '```ts', 'a;', '```', '', 'Other:', '<!-- run -->', '```ts', 'b;', '```'].join('\n'));
  t.deepEqual(intros.map((b) => b.intro), ['Some text:', 'Other:']);
});

test('a block that imports the sources (not the package) says it runs inside a checkout of this repository', (t) => {
  const internal = allBlocks().filter((b) => /from '\.\.?\//.test(b.code));
  t.true(internal.length > 0, 'the check looks at something');
  const unexplained = internal.filter((b) => !/inside a checkout of this repository/i.test(b.intro)).map((b) => `${b.source}:${b.line}: ${b.intro}`);
  t.deepEqual(unexplained, [], 'blocks whose imports a package user cannot resolve, without saying so');
});

test('every TypeScript block of the README and docs/ compiles (strict), and the runnable ones exit 0', async (t) => {
  const blocks = allBlocks();
  t.true(blocks.length >= 5, `${blocks.length} blocks found`);
  t.true(blocks.some((b) => b.source === 'README.md' && b.mark === 'run'), 'the README tour is marked <!-- run -->');
  const fragments = blocks.filter((b) => b.mark === 'fragment');
  t.true(fragments.length <= blocks.length / 4, `too many fragments: ${fragments.map((b) => `${b.source}:${b.line}`).join(', ')}`);

  // Inside dist/ so that node_modules (types, dependencies) resolve, and so that at run time `diaspora-stream`
  // resolves to this package itself (self-reference through package.json "exports" -> the built dist/lib).
  const workDir = tempDir(t, '.docs-code-', path.join(repo, 'dist'));
  const srcDir = path.join(workDir, 'blocks');
  fs.mkdirSync(srcDir);
  // Blocks for contributors import the engine as from the repository root (`./storage/...`, `./lib/...`).
  for (const dir of ['lib', 'storage']) fs.symlinkSync(path.join(repo, dir), path.join(srcDir, dir));
  const byName = new Map<string, Block>();
  for (const b of blocks) {
    if (b.mark === 'fragment') continue;
    const name = blockName(b);
    byName.set(name, b);
    // `export {}` makes each block a module of its own (top-level await, no name clashes between blocks).
    fs.writeFileSync(path.join(srcDir, `${name}.ts`), `${b.code}\nexport {};\n`);
  }
  const rel = (p: string) => path.relative(workDir, path.join(repo, p));
  fs.writeFileSync(path.join(workDir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', lib: ['es2023'], types: ['node'],
      strict: true, skipLibCheck: true, esModuleInterop: true, resolveJsonModule: true,
      rootDir: rel('.'), outDir: 'out',
      paths: {
        'diaspora-stream': [rel('lib/index.ts')],
        'diaspora-stream/driver': [rel('lib/driver-spi.ts')],
        'diaspora-stream/testing': [rel('lib/testing/index.ts')],
      },
    },
    include: ['blocks/*.ts'],
  }, null, 2));

  const r = await run(process.execPath, [tsc, '-p', workDir], { cwd: workDir, maxBuffer: 16 << 20 })
    .catch((err: { stdout: string }) => err);
  // Errors name the temp file and a line in it: translate to the doc file and line.
  const report = r.stdout.replace(/blocks\/(\w+)\.ts\((\d+),(\d+)\)/g, (whole, name: string, line: string, col: string) => {
    const b = byName.get(name);
    return b ? `${b.source}:${b.line + Number(line) - 1}:${col}` : whole;
  }).replace(new RegExp(`^.*?(?=(README|CONTRIBUTING|CHANGELOG|docs/))`, 'gm'), '');
  t.is(report.trim(), '', `TypeScript blocks that do not compile:\n${report}`);
  if (report.trim() !== '') return;

  for (const [name, b] of byName) {
    if (b.mark !== 'run') continue;
    const js = path.join(workDir, 'out', path.relative(repo, srcDir), `${name}.js`);
    const cwd = tempDir(t, 'diaspora-docs-run-');
    const result = await run(process.execPath, [js], { cwd, timeout: 60_000, maxBuffer: 16 << 20 })
      .then(() => 'ok', (err: { code?: number; stderr?: string; signal?: string }) => `exit ${err.code ?? err.signal}: ${err.stderr}`);
    t.is(result, 'ok', `${b.source}:${b.line} (run in a temp folder)`);
  }
});

test('a block that waits for a consumer to finish bounds it (until, maxEvents or timeoutMs): else it never ends', (t) => {
  // `await consumer.process(...)` and `for await (... of consumer)` wait for new events until close() unless told
  // where to stop; a copied example that hangs looks like a bug of the library.
  const waiting = allBlocks().filter((b) => b.mark !== 'fragment' && /await \w+\.process\(|for await \(const \w+ of \w+\)/.test(b.code));
  t.true(waiting.length >= 3, `${waiting.length} blocks`);
  t.deepEqual(waiting.filter((b) => !/until:|maxEvents|timeoutMs/.test(b.code)).map((b) => `${b.source}:${b.line}`), []);
});

test('every relative link of the README and docs/ names a file of the repository', (t) => {
  const broken: string[] = [];
  for (const f of docFiles()) {
    const text = fs.readFileSync(path.join(repo, f), 'utf8');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!.split('#')[0]!;
      if (target === '' || /^[a-z]+:/.test(target)) continue; // same-page anchor, http(s), mailto
      if (!fs.existsSync(path.resolve(path.dirname(path.join(repo, f)), target))) broken.push(`${f}: ${m[1]}`);
    }
    if (/\(\/work\/|shared\/reference/.test(text)) broken.push(`${f}: points outside the repository`);
  }
  t.deepEqual(broken, []);
});
