// Data selection: descriptors, views, selectors and allocators (re-exported by lib/index.ts).
export { DataDescriptor, type Selection } from './data-descriptor.js';
export { DataView } from './data-view.js';
export { selectData, type DataSelector, type DataAllocator } from './selection.js';
export { fullDataSelector, bufferAllocator } from './selection-helpers.js';
