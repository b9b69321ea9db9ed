// Readable views of a payload for REST and history rows. Delivery always uses the exact bytes.
import { isUtf8 } from 'node:buffer';

export type PayloadFormat = 'json' | 'text' | 'binary';

export interface PayloadView {
  format: PayloadFormat;
  /** Parsed JSON value, the text, or base64 of the bytes. */
  payload: unknown;
  contentType: string;
}

// C0 controls other than tab, line feed, carriage return mark a payload as binary.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function asText(bytes: Buffer): string | null {
  // isUtf8 checks without throwing, which matters for binary payloads on the hot path.
  if (!isUtf8(bytes)) return null;
  const text = bytes.toString('utf8');
  return CONTROL.test(text) ? null : text;
}

/** `contentTypeHint` is the MQTT 5 content-type property when the publisher sent one. */
export function viewPayload(bytes: Buffer, contentTypeHint?: string): PayloadView {
  const text = asText(bytes);
  if (text === null) {
    return {
      format: 'binary',
      payload: bytes.toString('base64'),
      contentType: contentTypeHint ?? 'application/octet-stream',
    };
  }
  const trimmed = text.trim();
  if (trimmed.length > 0) {
    try {
      return { format: 'json', payload: JSON.parse(trimmed), contentType: contentTypeHint ?? 'application/json' };
    } catch {
      // not JSON: fall through to text
    }
  }
  return { format: 'text', payload: text, contentType: contentTypeHint ?? 'text/plain; charset=utf-8' };
}
