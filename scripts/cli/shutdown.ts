// SIGINT/SIGTERM handling for long-running commands: the first signal runs the registered stop functions,
// a second one exits at once.

type Stop = (signal: NodeJS.Signals) => unknown;

const handlers = new Set<Stop>();
let signalled: NodeJS.Signals | undefined;

function onSignal(signal: NodeJS.Signals): void {
  if (signalled) process.exit(130);
  signalled = signal;
  for (const h of handlers) void Promise.resolve(signal).then(h).catch(() => {});
}

/** Runs `stop` (given the signal's name) on SIGINT/SIGTERM; returns a function that unregisters it. */
export function onShutdown(stop: Stop): () => void {
  if (handlers.size === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  handlers.add(stop);
  if (signalled) void Promise.resolve(signalled).then(stop);
  return () => {
    handlers.delete(stop);
    if (handlers.size === 0) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  };
}
