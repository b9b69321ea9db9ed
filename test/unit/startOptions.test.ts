import { describe, expect, it } from 'vitest';
import { planStart, StartError } from '../../src/cli/startOptions.js';

describe('npm start options', () => {
  it('keeps data, HOME and the generated password inside the root, one root per checkout by default', () => {
    const plan = planStart({}, '/work/project', 2);
    expect(plan.rootPath).toBe('/work/project/.harper/hdb');
    expect(plan.home).toBe('/work/project/.harper/hdb/.home');
    expect(plan.passwordFile).toBe('/work/project/.harper/hdb/.admin-password');
    expect(plan.ports).toEqual({ http: 9926, operations: 9925, mqtt: 1883, mqtts: 8883, replication: null, replicationSecure: null });
    expect(plan.threads).toBe(2);
  });

  it('lets localhost in without credentials unless AUTHORIZE_LOCAL=false', () => {
    expect(planStart({}, '/p', 2).authorizeLocal).toBe(true);
    expect(planStart({ AUTHORIZE_LOCAL: 'false' }, '/p', 2).authorizeLocal).toBe(false);
    expect(() => planStart({ AUTHORIZE_LOCAL: 'no' }, '/p', 2)).toThrow('AUTHORIZE_LOCAL must be true or false, got "no"');
  });

  it('gives another ROOTPATH its own HOME, so two roots from one checkout never share a boot file', () => {
    const plan = planStart({ ROOTPATH: '/tmp/other' }, '/work/project', 4);
    expect(plan.home).toBe('/tmp/other/.home');
    expect(plan.threads).toBe(4);
  });

  it('takes ports, threads and the admin user from HarperDB variables', () => {
    const plan = planStart(
      { HTTP_PORT: '19926', OPERATIONSAPI_NETWORK_PORT: '19925', MQTT_NETWORK_PORT: '11883', MQTT_NETWORK_SECUREPORT: '18883', REPLICATION_PORT: '19933', THREADS_COUNT: '3', HDB_ADMIN_USERNAME: 'root', HDB_ADMIN_PASSWORD: 'secret' },
      '/p',
      2,
    );
    expect(plan.ports).toMatchObject({ http: 19926, operations: 19925, mqtt: 11883, mqtts: 18883, replication: 19933 });
    expect(plan.threads).toBe(3);
    expect(plan.adminUser).toBe('root');
    expect(plan.adminPassword).toBe('secret');
  });

  it.each([
    [{ HTTP_PORT: 'http' }, 'HTTP_PORT must be a TCP port number (1-65535), got "http"'],
    [{ MQTT_NETWORK_PORT: '70000' }, 'MQTT_NETWORK_PORT must be a TCP port number (1-65535), got "70000"'],
    [{ THREADS_COUNT: 'two' }, 'THREADS_COUNT must be a whole number of worker threads (1-64), got "two"'],
    [{ MQTT_NETWORK_PORT: '9926' }, 'ports http and mqtt are both 9926; each needs its own port'],
  ])('refuses %j with one line naming the variable', (env, message) => {
    expect(() => planStart(env, '/p', 2)).toThrow(new StartError(message));
  });
});

describe("HarperDB's storage.prefetchWrites", () => {
  it('is off unless STORAGE_PREFETCHWRITES turns it on, and a bad value is named', () => {
    const prefetchWrites = (value: string | undefined) => planStart({ STORAGE_PREFETCHWRITES: value }, '/p', 2).prefetchWrites;
    expect(prefetchWrites(undefined)).toBe(false);
    expect(prefetchWrites('')).toBe(false);
    expect(prefetchWrites('false')).toBe(false);
    expect(prefetchWrites('0')).toBe(false);
    expect(prefetchWrites('true')).toBe(true);
    expect(prefetchWrites('TRUE')).toBe(true);
    expect(() => prefetchWrites('bogus')).toThrow(new StartError('STORAGE_PREFETCHWRITES must be true or false, got "bogus"'));
  });
});
