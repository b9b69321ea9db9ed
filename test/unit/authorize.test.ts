import { describe, expect, it } from 'vitest';
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

  it('caches answers per connection', () => {
    const access = new Access(reader, 'data');
    expect(access.allows('mqtt_a_b', 'read')).toBe(true);
    expect(access.allows('mqtt_a_b', 'insert')).toBe(false);
    expect(new Access(admin, 'data').allows('anything', 'insert')).toBe(true);
  });
});
