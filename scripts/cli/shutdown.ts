// SIGINT/SIGTERM handling for long-running commands: the first signal runs the registered stop functions,
// a second one exits at once.

const handlers = new Set<() => unknown>();
let signalled = false;

function onSignal(): void {
  if (signalled) process.exit(130);
  signalled = true;
  for (const h of handlers) void Promise.resolve().then(h).catch(() => {});
}

/** Runs `stop` on SIGINT/SIGTERM; returns a function that unregisters it. */
export function onShutdown(stop: () => unknown): () => void {
  if (handlers.size === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  handlers.add(stop);
  if (signalled) void Promise.resolve().then(stop);
  return () => {
    handlers.delete(stop);
    if (handlers.size === 0) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  };
}
