// One HarperDB (two worker threads) for the integration test files that do not need their own.
import type { TestProject } from 'vitest/node';
import { HarperInstance, type InstanceInfo } from '../../../src/cli/instance.js';

declare module 'vitest' {
  export interface ProvidedContext {
    harper: InstanceInfo;
  }
}

let instance: HarperInstance | undefined;

export async function setup(project: TestProject): Promise<void> {
  instance = await HarperInstance.create({ threads: 2, apps: ['test/fixtures/native-app'] });
  await instance.start();
  project.provide('harper', instance.info);
}

export async function teardown(): Promise<void> {
  await instance?.destroy();
}
