// Time from the first publish on a brand-new topic (its table does not exist yet) to its delivery,
// against the same measurement on a topic whose table exists.
import { performance } from 'node:perf_hooks';
import { BenchClient } from '../client.js';
import { percentiles, type Percentiles } from '../stats.js';

export interface FirstMessageResult {
  newTopicMs: Percentiles;
  existingTopicMs: Percentiles;
}

export async function firstMessage(port: number, count = 50): Promise<FirstMessageResult> {
  const run = `${Date.now().toString(36)}`;
  const sub = await BenchClient.connect(port, `first-sub-${run}`);
  let arrived: (() => void) | undefined;
  sub.listen(() => arrived?.());
  await sub.subscribe(`fresh${run}/#`, 0);
  const pub = await BenchClient.connect(port, `first-pub-${run}`);
  const timeOne = async (topic: string) => {
    const delivered = new Promise<void>((resolve) => (arrived = resolve));
    const start = performance.now();
    await pub.publish(topic, Buffer.from('x'), 1);
    await delivered;
    return performance.now() - start;
  };
  const newTopic: number[] = [];
  const existing: number[] = [];
  for (let i = 0; i < count; i++) {
    newTopic.push(await timeOne(`fresh${run}/n${i}/t`)); // prefix fresh/n<i>/ is new: a table is created
    existing.push(await timeOne(`fresh${run}/n${i}/t`)); // same topic again: the table exists
  }
  pub.close();
  sub.close();
  return { newTopicMs: percentiles(newTopic), existingTopicMs: percentiles(existing) };
}
