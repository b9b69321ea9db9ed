import { describe, expect, it } from 'vitest';
import { fromBase64, hexDump, previewPayload, viewPayload } from '../../src/console/web/payload.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('viewPayload', () => {
  it('pretty-prints JSON, keeps text as it is, dumps binary as hex', () => {
    expect(viewPayload(bytes('{"c":21.5,"a":[1,2]}'))).toEqual({ kind: 'json', text: '{\n  "c": 21.5,\n  "a": [\n    1,\n    2\n  ]\n}', omitted: 0 });
    expect(viewPayload(bytes(' 42 '))).toEqual({ kind: 'json', text: '42', omitted: 0 });
    expect(viewPayload(bytes('on'))).toEqual({ kind: 'text', text: 'on', omitted: 0 });
    expect(viewPayload(bytes('{not json'))).toEqual({ kind: 'text', text: '{not json', omitted: 0 });
    expect(viewPayload(bytes('héllo ✓\nline 2\t'))).toEqual({ kind: 'text', text: 'héllo ✓\nline 2\t', omitted: 0 });
    expect(viewPayload(new Uint8Array([0xde, 0xad, 0x00, 0xff]))).toEqual({ kind: 'binary', text: '00000000  de ad 00 ff                                       |....|', omitted: 0 });
    expect(viewPayload(new Uint8Array())).toEqual({ kind: 'empty', text: '', omitted: 0 });
  });

  it('calls text with control characters or invalid UTF-8 binary', () => {
    expect(viewPayload(bytes('a\u0001b')).kind).toBe('binary');
    expect(viewPayload(new Uint8Array([0x61, 0xc3])).kind).toBe('binary');
  });

  it('cuts long payloads and says how much is left out', () => {
    const long = new Uint8Array(100).fill(0x61);
    expect(viewPayload(long, 10)).toEqual({ kind: 'text', text: 'aaaaaaaaaa', omitted: 90 });
    const binary = new Uint8Array(40).fill(0);
    const view = viewPayload(binary, 16);
    expect(view.kind).toBe('binary');
    expect(view.omitted).toBe(24);
    expect(view.text.split('\n')).toHaveLength(1);
  });
});

describe('hexDump', () => {
  it('writes the lines hexdump -C writes', () => {
    // printf 'abcdefghijklmnopq' | hexdump -C
    expect(hexDump(bytes('abcdefghijklmnopq'))).toBe(
      '00000000  61 62 63 64 65 66 67 68  69 6a 6b 6c 6d 6e 6f 70  |abcdefghijklmnop|\n' +
        '00000010  71                                                |q|',
    );
  });
});

describe('previewPayload', () => {
  it('gives one line, cut with an ellipsis; binary as hex', () => {
    expect(previewPayload(bytes('{\n  "c": 1\n}'))).toBe('{ "c": 1 }');
    expect(previewPayload(bytes('x'.repeat(100)), 10)).toBe('xxxxxxxxx…');
    expect(previewPayload(new Uint8Array([1, 2, 255]))).toBe('01 02 ff');
  });
});

describe('fromBase64', () => {
  it('gives the bytes back', () => {
    expect(Array.from(fromBase64(Buffer.from([0, 1, 254, 255]).toString('base64')))).toEqual([0, 1, 254, 255]);
  });
});
