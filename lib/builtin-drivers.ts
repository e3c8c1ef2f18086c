// Registers the drivers that ship with the library.
import { registerDriver } from './driver-registry.js';
import { FilesDriverBackend } from './drivers/files/files-driver.js';
import { MemoryDriverBackend } from './drivers/memory/memory-driver.js';

registerDriver('files', (options) => new FilesDriverBackend(options));
registerDriver('memory', (options) => new MemoryDriverBackend(options));
registerDriver('nats', async (options) => (await import('./drivers/nats/nats-driver.js')).NatsDriverBackend.connect(options));
