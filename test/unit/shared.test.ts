import { describe, expect, it } from 'vitest';
import { SharedGroups, type Membership } from '../../src/shared/groups.js';
import { parseSharedFilter } from '../../src/shared/sharedName.js';
import { willWaitSeconds } from '../../src/session/delayedWills.js';

describe('parseSharedFilter', () => {
  it('splits group and filter', () => {
    expect(parseSharedFilter('$share/g/a/+/#')).toEqual({ group: 'g', filter: 'a/+/#' });
  });
  it.each(['$share/g', '$share//a', '$share/g#/a', '$share/g+/a', '$share/g/a/#/b'])('refuses %s', (filter) => {
    expect(parseSharedFilter(filter)).toHaveProperty('problem');
  });
});

describe('SharedGroups', () => {
  const change = (member: string, thread: number, join: boolean, filter = 'a/#', group = 'g'): Membership => ({ group, filter, member, thread, join });

  it('gives each matching message to the next member in turn, the same way wherever it runs', () => {
    const views = [new SharedGroups(), new SharedGroups()];
    for (const view of views) for (const m of [change('m1', 1, true), change('m2', 2, true), change('m3', 1, true)]) view.apply(m);
    const picks = views.map((view) => {
      const chosen: string[] = [];
      for (let i = 0; i < 6; i++) view.choose('a/x', (_g, _f, member) => chosen.push(member.id));
      return chosen;
    });
    expect(picks[0]).toEqual(['m1', 'm2', 'm3', 'm1', 'm2', 'm3']);
    expect(picks[1]).toEqual(picks[0]);
  });

  it('forgets a member that leaves and a group with no members', () => {
    const groups = new SharedGroups();
    groups.apply(change('m1', 1, true));
    groups.apply(change('m2', 1, true));
    groups.apply(change('m1', 1, false));
    const chosen: string[] = [];
    groups.choose('a/b', (_g, _f, member) => chosen.push(member.id));
    groups.choose('a/b', (_g, _f, member) => chosen.push(member.id));
    expect(chosen).toEqual(['m2', 'm2']);
    groups.apply(change('m2', 1, false));
    expect(groups.size).toBe(0);
    groups.choose('a/b', () => expect.unreachable());
  });

  it('chooses in one named group only, sharing its turns with choose(), and null once it has no members', () => {
    const groups = new SharedGroups();
    for (const m of [change('m1', 1, true), change('m2', 2, true), change('o1', 1, true, 'a/#', 'other')]) groups.apply(m);
    const chosen: Array<string | undefined> = [groups.chooseIn('g', 'a/#')?.id];
    groups.choose('a/x', (group, _f, member) => group === 'g' && chosen.push(member.id));
    chosen.push(groups.chooseIn('g', 'a/#')?.id);
    expect(chosen).toEqual(['m1', 'm2', 'm1']);
    expect(groups.chooseIn('g', 'b/#')).toBeNull();
    groups.apply(change('m1', 1, false));
    groups.apply(change('m2', 2, false));
    expect(groups.chooseIn('g', 'a/#')).toBeNull();
    expect(groups.chooseIn('other', 'a/#')?.id).toBe('o1');
  });

  it('does not match topics outside the filter, nor $ topics with a leading wildcard', () => {
    const groups = new SharedGroups();
    groups.apply(change('m1', 1, true, '#'));
    groups.choose('$SYS/x', () => expect.unreachable());
    const narrow = new SharedGroups();
    narrow.apply(change('m1', 1, true, 'b/+'));
    narrow.choose('a/x', () => expect.unreachable());
  });
});

describe('willWaitSeconds', () => {
  it('is the will delay, capped by the session expiry; 0 when the session ends with the connection', () => {
    expect(willWaitSeconds(undefined, 60, true)).toBe(0);
    expect(willWaitSeconds(5, 60, true)).toBe(5);
    expect(willWaitSeconds(50, 10, true)).toBe(10);
    expect(willWaitSeconds(5, null, true)).toBe(5);
    expect(willWaitSeconds(5, 0, false)).toBe(0);
  });
});
