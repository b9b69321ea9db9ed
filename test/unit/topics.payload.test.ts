import { describe, expect, it } from 'vitest';
import { viewPayload } from '../../src/topics/payload.js';

describe('viewPayload', () => {
  it('parses JSON but keeps it readable', () => {
    expect(viewPayload(Buffer.from('{ "a" : 1.50 }'))).toEqual({
      format: 'json',
      payload: { a: 1.5 },
      contentType: 'application/json',
    });
    expect(viewPayload(Buffer.from('25')).payload).toBe(25);
  });

  it('keeps text as text', () => {
    expect(viewPayload(Buffer.from('hello world\n'))).toEqual({
      format: 'text',
      payload: 'hello world\n',
      contentType: 'text/plain; charset=utf-8',
    });
    expect(viewPayload(Buffer.from('{not json')).format).toBe('text');
    expect(viewPayload(Buffer.alloc(0))).toMatchObject({ format: 'text', payload: '' });
  });

  it('base64-encodes binary', () => {
    const bytes = Buffer.from([0, 1, 2, 255]);
    expect(viewPayload(bytes)).toEqual({ format: 'binary', payload: 'AAEC/w==', contentType: 'application/octet-stream' });
    expect(viewPayload(Buffer.from('ab\u0000cd')).format).toBe('binary');
  });

  it('prefers the publisher content type', () => {
    expect(viewPayload(Buffer.from('x'), 'text/csv').contentType).toBe('text/csv');
  });
});
