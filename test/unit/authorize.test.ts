import { describe, expect, it } from 'vitest';
import { ConnectionRules, filterWithin, parseAccessRule, substitute } from '../../src/access/accessRules.js';
import { Access, isSuperUser, tableAllows } from '../../src/authorize.js';

const admin = { username: 'admin', role: { permission: { super_user: true } } };
const reader = {
  username: 'reader',
  role: { permission: { super_user: false, data: { tables: { mqtt_a_b: { read: true, insert: false } } } } },
};

describe('authorization', () => {
  it('lets super users and anonymous clients do anything', () => {
    expect(isSuperUser(admin)).toBe(true);
    expect(tableAllows(admin, 'data', 'mqtt_x', 'insert')).toBe(true);
    expect(tableAllows(undefined, 'data', 'mqtt_x', 'insert')).toBe(true);
  });

  it('follows role table permissions for everyone else', () => {
    expect(tableAllows(reader, 'data', 'mqtt_a_b', 'read')).toBe(true);
    expect(tableAllows(reader, 'data', 'mqtt_a_b', 'insert')).toBe(false);
    expect(tableAllows(reader, 'data', 'mqtt_other', 'read')).toBe(false);
    expect(tableAllows(reader, 'other_db', 'mqtt_a_b', 'read')).toBe(false);
  });

  it('answers per topic from the topic table permissions', () => {
    const access = new Access(reader, 'data');
    expect(access.mayRead('a/b/c', () => 'mqtt_a_b')).toBe(true);
    expect(access.mayWrite('a/b/c', () => 'mqtt_a_b')).toBe(false);
    expect(access.mayRead('$SYS/broker/uptime', () => 'sys')).toBe(true);
    expect(new Access(admin, 'data').unrestricted).toBe(true);
  });
});

describe('access rules and device prefixes', () => {
  const rules = ['deny read test/nosubscribe', 'deny write locked/#', 'allow readwrite users/%u/#', 'allow read clients/%c/+'].map((r, i) => parseAccessRule(r, `rule ${i}`));
  const limits = (user: { username: string }, clientId: string, prefixes?: string[]) => ({ rules: new ConnectionRules(rules, user.username, clientId), prefixes });
  const noTable = () => 'mqtt_none';

  it('deny rules hold for super users too; a filter wholly inside one is refused, a wider one is filtered per message', () => {
    const access = new Access(admin, 'data', limits(admin, 'c1'));
    expect(access.unrestricted).toBe(false);
    expect(access.maySubscribe('test/nosubscribe')).toBe(false);
    expect(access.maySubscribe('#')).toBe(true);
    expect(access.mayRead('test/nosubscribe', noTable)).toBe(false);
    expect(access.mayRead('test/other', noTable)).toBe(true);
    expect(access.mayWrite('locked/a', noTable)).toBe(false);
    expect(access.mayRead('locked/a', noTable)).toBe(true);
  });

  it('substitutes %u and %c for other users, before table permissions', () => {
    const alice = { username: 'alice', role: { permission: { super_user: false } } };
    const access = new Access(alice, 'data', limits(alice, 'phone'));
    expect(access.mayWrite('users/alice/x', noTable)).toBe(true);
    expect(access.mayWrite('users/bob/x', noTable)).toBe(false);
    expect(access.mayRead('clients/phone/x', noTable)).toBe(true);
    expect(access.mayWrite('clients/phone/x', noTable)).toBe(false);
  });

  it('confines a device to its prefixes and allow rules, wildcards included', () => {
    const device = { username: 'd1', role: { permission: { super_user: false } } };
    const access = new Access(device, 'data', limits(device, 'd1', ['org_a/#']));
    expect(access.maySubscribe('org_a/devices/+/temp')).toBe(true);
    expect(access.maySubscribe('org_a/#')).toBe(true);
    expect(access.maySubscribe('#')).toBe(false);
    expect(access.maySubscribe('+/devices/#')).toBe(false);
    expect(access.maySubscribe('users/d1/#')).toBe(true);
    expect(access.mayWrite('org_a/x', noTable)).toBe(true);
    expect(access.mayWrite('org_b/x', noTable)).toBe(false);
  });
});

describe('parseAccessRule', () => {
  it.each(['allow read', 'permit read a/b', 'deny readwrite a/#/b', 42])('refuses %j with one clear line', (text) => {
    expect(() => parseAccessRule(text, 'config.yaml: accessRules[0]')).toThrow(/^config\.yaml: accessRules\[0\]: /);
  });

  it('does not let an id with wildcards or slashes widen a %u or %c rule', () => {
    expect(substitute('users/%u/#', 'a/b', 'c')).toBeNull();
    expect(substitute('clients/%c/#', 'u', '#')).toBeNull();
    expect(substitute('users/%u/#', undefined, 'c')).toBeNull();
    expect(substitute('users/%u/#', 'ann', 'c')).toBe('users/ann/#');
  });

  it.each([
    ['a/b', 'a/#', true],
    ['a', 'a/#', true],
    ['a/+', 'a/+', true],
    ['a/+', 'a/b', false],
    ['a/#', 'a/+', false],
    ['#', 'a/#', false],
    ['$SYS/x', '#', false],
    ['a/b/c', '+/b/#', true],
  ])('filter %s within %s: %s', (filter, pattern, expected) => {
    expect(filterWithin(filter, pattern)).toBe(expected);
  });
});
