import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LoadAverage } from '../../src/sys/load.js';
import { ChangedValues, LOADS, sysValues } from '../../src/sys/tree.js';
import { figures } from '../helpers/figures.js';

describe('LoadAverage', () => {
  it('moves towards the per-minute rate like mosquitto: by 1 - e^(-elapsed/period)', () => {
    const load = new LoadAverage();
    load.update(0, 0);
    load.update(100, 10); // 600 per minute over the last 10 s
    expect(load.values['1min']).toBeCloseTo(600 * (1 - Math.exp(-10 / 60)), 9);
    expect(load.values['5min']).toBeCloseTo(600 * (1 - Math.exp(-10 / 300)), 9);
    expect(load.values['15min']).toBeCloseTo(600 * (1 - Math.exp(-10 / 900)), 9);
  });

  it('converges to a steady rate and decays when traffic stops', () => {
    const load = new LoadAverage();
    let total = 0;
    load.update(total, 0);
    for (let i = 0; i < 360; i++) load.update((total += 50), 10); // 300 per minute for an hour
    expect(load.values['1min']).toBeCloseTo(300, 6);
    expect(load.values['15min']).toBeCloseTo(300 * (1 - Math.exp(-3600 / 900)), 6); // still catching up
    for (let i = 0; i < 90; i++) load.update(total, 10); // 15 quiet minutes
    expect(load.values['1min']).toBeLessThan(0.01);
  });
});

describe('sysValues', () => {
  it('formats values the way mosquitto does', () => {
    const values = sysValues(
      figures({ clientsDisconnected: 2, offlineSubscriptions: 3, retainedMessages: 7 }, { clientsConnected: 4, clientsMaximum: 6, subscriptions: 5 }),
      new Map([['messages/received', Object.assign(new LoadAverage(), { values: { '1min': 1.234, '5min': 0.5, '15min': 0 } })]]),
    );
    expect(values.get('broker/version')).toBe('harper-mqtt-bridge 1.2.3 on HarperDB 4.7.29');
    expect(values.get('broker/uptime')).toBe('12 seconds');
    expect(values.get('broker/clients/connected')).toBe('4');
    expect(values.get('broker/clients/total')).toBe('6');
    expect(values.get('broker/clients/maximum')).toBe('6');
    expect(values.get('broker/subscriptions/count')).toBe('8');
    expect(values.get('broker/retained messages/count')).toBe('7');
    expect(values.get('broker/load/messages/received/1min')).toBe('1.23');
    expect(values.get('broker/load/messages/received/5min')).toBe('0.50');
    expect(values.get('broker/load/sockets/15min')).toBe('0.00');
  });

  it('has a load topic per counter and period, and history rows only with a history', () => {
    const withHistory = sysValues(figures(), new Map());
    expect([...withHistory.keys()].filter((id) => id.startsWith('broker/load/'))).toHaveLength(Object.keys(LOADS).length * 3);
    expect(withHistory.has('broker/tables/history/rows')).toBe(true);
    expect(withHistory.has('broker/tables/history/pending')).toBe(true);
    const withoutHistory = sysValues(figures({ historyRows: null }), new Map());
    expect(withoutHistory.has('broker/tables/history/rows')).toBe(false);
    expect(withoutHistory.has('broker/tables/history/pending')).toBe(false);
  });

  it('is documented topic by topic in docs/sys.md', () => {
    const doc = readFileSync(new URL('../../docs/sys.md', import.meta.url), 'utf8');
    const documented = new Set([...doc.matchAll(/`\$SYS\/([^`]+)`/g)].map((m) => m[1]!));
    const expand = (id: string) => (id.includes('{1min,5min,15min}') ? ['1min', '5min', '15min'].map((p) => id.replace('{1min,5min,15min}', p)) : [id]);
    const expanded = new Set([...documented].flatMap(expand));
    const missing = [...sysValues(figures(), new Map()).keys()].filter((id) => !expanded.has(id));
    expect(missing).toEqual([]);
  });
});

describe('ChangedValues', () => {
  it('passes on only what changed, and what was forgotten', () => {
    const changed = new ChangedValues();
    expect([...changed.take(new Map([['a', '1'], ['b', '2']])).keys()]).toEqual(['a', 'b']);
    expect([...changed.take(new Map([['a', '1'], ['b', '3']]))]).toEqual([['b', '3']]);
    changed.forget('a');
    expect([...changed.take(new Map([['a', '1'], ['b', '3']]))]).toEqual([['a', '1']]);
  });
});
