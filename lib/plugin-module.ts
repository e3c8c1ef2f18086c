// Imports the module named in a "name:module-path" driver or component type.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Resolves `spec` the way a user on the command line expects: a `file:` URL as is; an absolute path, a path starting
 * with `.`, or any path naming an existing file relative to process.cwd() as a file; otherwise a package name,
 * looked up from process.cwd() first, then from this library's own location.
 */
export async function importPluginModule(spec: string): Promise<Record<string, unknown>> {
  if (spec.startsWith('file:')) return (await import(spec)) as Record<string, unknown>;
  const asFile = path.resolve(process.cwd(), spec);
  if (path.isAbsolute(spec) || spec.startsWith('.') || existsSync(asFile)) {
    return (await import(pathToFileURL(asFile).href)) as Record<string, unknown>;
  }
  let resolved: string | undefined;
  try {
    resolved = createRequire(path.join(process.cwd(), 'package.json')).resolve(spec);
  } catch {
    // ESM-only packages (an "exports" map with only "import") cannot be resolved this way.
  }
  if (resolved !== undefined && path.isAbsolute(resolved)) {
    return (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  }
  return (await import(spec)) as Record<string, unknown>;
}
