// '+' and '#' at any level, across tables, including root filters and tables created later.
import { afterEach, describe, expect, it } from 'vitest';
import { closeAll, connect, publish, quietPeriod, record, subscribe, unique, waitFor } from '../helpers/mqtt.js';

afterEach(closeAll);

async function deliveredTopics(filter: string | string[], topics: string[], expected: number): Promise<string[]> {
  const subscriber = await connect();
  const received = record(subscriber);
  await subscribe(subscriber, filter);
  const publisher = await connect();
  for (const topic of topics) await publish(publisher, topic, topic, { qos: 1 });
  await waitFor(() => received.length >= expected, `${expected} messages`);
  await quietPeriod();
  return received.map((m) => m.topic).sort();
}

describe('wildcards', () => {
  it("'#' reaches every table below it, including tables created after subscribing", async () => {
    const root = unique('wild');
    const topics = [`${root}`, `${root}/a`, `${root}/a/b`, `${root}/a/b/c`, `${root}/x/y/z/deep`];
    expect(await deliveredTopics(`${root}/#`, [...topics, `${root}-other/a`], topics.length)).toEqual([...topics].sort());
  });

  it("'+' matches exactly one level anywhere in the filter", async () => {
    const root = unique('wild');
    const matching = [`${root}/r1/sensor/t`, `${root}/r2/sensor/t`, `${root}//sensor/t`];
    const others = [`${root}/r1/other/t`, `${root}/r1/sensor/t/more`, `${root}/r1/sensor`];
    expect(await deliveredTopics(`${root}/+/sensor/+`, [...others, ...matching], matching.length)).toEqual([...matching].sort());
  });

  it('root filters # and +/x see topics from every table', async () => {
    const root = unique('root');
    const subscriber = await connect();
    const all = record(subscriber);
    await subscribe(subscriber, '#');
    const second = await connect();
    const plus = record(second);
    await subscribe(second, `+/${root}`);
    const publisher = await connect();
    await publish(publisher, `${root}`, 'single', { qos: 1 });
    await publish(publisher, `x/${root}`, 'second level', { qos: 1 });
    await publish(publisher, `/${root}`, 'empty first level', { qos: 1 });
    await publish(publisher, `x/${root}/deeper`, 'third level', { qos: 1 });
    await waitFor(() => all.filter((m) => m.topic.includes(root)).length === 4, 'four messages on #');
    await waitFor(() => plus.length === 2, 'two messages on +/x');
    await quietPeriod();
    expect(plus.map((m) => m.topic).sort()).toEqual([`/${root}`, `x/${root}`]);
  });

  it('a subscription that overlaps another gets each message once', async () => {
    const root = unique('overlap');
    const topics = await deliveredTopics([`${root}/#`, `${root}/+`, `${root}/a`], [`${root}/a`], 1);
    expect(topics).toEqual([`${root}/a`]);
  });

  it('wildcards at the first level do not match $ topics', async () => {
    const id = unique('dollar');
    const subscriber = await connect();
    const received = record(subscriber);
    await subscribe(subscriber, ['#', '+/' + id]);
    const explicit = await connect();
    const dollar = record(explicit);
    await subscribe(explicit, `$${id}/#`);
    const publisher = await connect();
    await publish(publisher, `$${id}/x`, 'hidden from #', { qos: 1 });
    await waitFor(() => dollar.length === 1, 'the $ topic on its explicit filter');
    await quietPeriod();
    expect(received.filter((m) => m.topic.includes(id))).toEqual([]);
  });

  it('stops delivering after UNSUBSCRIBE', async () => {
    const root = unique('unsub');
    const subscriber = await connect();
    const received = record(subscriber);
    await subscribe(subscriber, `${root}/#`);
    const publisher = await connect();
    await publish(publisher, `${root}/1`, 'one', { qos: 1 });
    await waitFor(() => received.length === 1, 'first message');
    await subscriber.unsubscribeAsync(`${root}/#`);
    await publish(publisher, `${root}/2`, 'two', { qos: 1 });
    await quietPeriod();
    expect(received.map((m) => m.payload.toString())).toEqual(['one']);
  });
});
