// How the console shows a payload: pretty JSON, text, or a hex dump of binary. Pure code (runs in
// the browser and in the unit tests).

export type PayloadKind = 'json' | 'text' | 'binary' | 'empty';

export interface PayloadView {
  kind: PayloadKind;
  text: string;
  /** Bytes left out of `text` (long payloads are cut). */
  omitted: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Control characters other than tab, line feed and carriage return make a payload binary. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function decodeText(bytes: Uint8Array): string | null {
  try {
    const text = utf8.decode(bytes);
    return CONTROL.test(text) ? null : text;
  } catch {
    return null;
  }
}

/** `00000000  de ad be ef ...  |....|`, 16 bytes a line. */
export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += 16) {
    const row = bytes.subarray(offset, offset + 16);
    const hex = Array.from(row, (byte) => byte.toString(16).padStart(2, '0'));
    const ascii = Array.from(row, (byte) => (byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex.slice(0, 8).join(' ').padEnd(23)}  ${hex.slice(8).join(' ').padEnd(23)}  |${ascii}|`);
  }
  return lines.join('\n');
}

/** The whole view of a payload, the first `maxBytes` of it for long ones. */
export function viewPayload(bytes: Uint8Array, maxBytes = 64 * 1024): PayloadView {
  if (bytes.length === 0) return { kind: 'empty', text: '', omitted: 0 };
  const text = bytes.length <= maxBytes ? decodeText(bytes) : null;
  if (text !== null) {
    const trimmed = text.trim();
    if (/^[[{"\-\d]|^(true|false|null)$/.test(trimmed)) {
      try {
        return { kind: 'json', text: JSON.stringify(JSON.parse(trimmed), null, 2), omitted: 0 };
      } catch {
        // not JSON after all: text
      }
    }
    return { kind: 'text', text, omitted: 0 };
  }
  const shown = bytes.subarray(0, maxBytes);
  const cutText = decodeText(shown);
  if (cutText !== null) return { kind: 'text', text: cutText, omitted: bytes.length - shown.length };
  return { kind: 'binary', text: hexDump(shown), omitted: bytes.length - shown.length };
}

/** One line for the tree: text as is, binary as hex, cut at `length` characters. */
export function previewPayload(bytes: Uint8Array, length = 60): string {
  const head = bytes.subarray(0, length * 4);
  const text = decodeText(head) ?? decodeText(bytes.subarray(0, length));
  const line = text !== null ? text.replace(/\s+/g, ' ') : Array.from(bytes.subarray(0, Math.ceil(length / 3)), (byte) => byte.toString(16).padStart(2, '0')).join(' ');
  return line.length > length ? line.slice(0, length - 1) + '…' : line;
}

/** Bytes of a base64 string (REST answers carry binary payloads so). */
export function fromBase64(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
