// Whether a byte array's ArrayBuffer was detached (transferred: postMessage, structuredClone, ArrayBuffer#transfer).
// Reading or copying a detached view throws, so an event holding one could never be written: push() refuses it up
// front instead of letting it fail the whole batch it joined. Node 20 has no ArrayBuffer#detached (Node 22 does).

const hasDetachedGetter = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'detached')?.get !== undefined;

/** True when `view`'s buffer is detached. Costs one comparison for a non-empty view (a detached one has length 0). */
export function isDetached(view: Uint8Array): boolean {
  if (view.byteLength !== 0) return false;
  const buffer = view.buffer as ArrayBuffer & { detached?: boolean };
  if (hasDetachedGetter && buffer instanceof ArrayBuffer) return buffer.detached === true;
  // A detached buffer also has length 0; an empty view of a live buffer is not detached.
  if (buffer.byteLength !== 0) return false;
  try {
    view.subarray(0, 0); // throws a TypeError on a detached buffer only
    return false;
  } catch {
    return true;
  }
}

/** Throws a TypeError naming `what` when `view` is detached. */
export function checkNotDetached(view: Uint8Array, what: string): void {
  if (isDetached(view)) throw new TypeError(`${what} is a byte array whose ArrayBuffer was detached (transferred): its bytes are gone`);
}
