// A HarperDB of a test file's own (other settings than the shared one), started before the file's
// tests and removed after them.
import { afterAll, beforeAll } from 'vitest';
import { HarperInstance } from '../../src/cli/instance.js';

export function ownInstance(options: Parameters<typeof HarperInstance.create>[0], ready: 'mqtt' | 'http' = 'mqtt'): () => HarperInstance {
  let instance: HarperInstance | undefined;
  beforeAll(async () => {
    instance = await HarperInstance.create(options);
    await instance.start({}, [], ready);
  }, 180_000);
  afterAll(async () => {
    await instance?.destroy();
  });
  return () => {
    if (!instance) throw new Error('the test HarperDB did not start');
    return instance;
  };
}
