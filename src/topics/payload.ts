// Readable views of a payload for REST and history rows. Delivery always uses the exact bytes.

export type PayloadFormat = 'json' | 'text' | 'binary';

export interface PayloadView {
  format: PayloadFormat;
  /** Parsed JSON value, the text, or base64 of the bytes. */
  payload: unknown;
  contentType: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// C0 controls other than tab, line feed, carriage return mark a payload as binary.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function asText(bytes: Uint8Array): string | null {
  try {
    const text = strictUtf8.decode(bytes);
    return CONTROL.test(text) ? null : text;
  } catch {
    return null;
  }
}

/** `contentTypeHint` is the MQTT 5 content-type property when the publisher sent one. */
export function viewPayload(bytes: Uint8Array, contentTypeHint?: string): PayloadView {
  const text = asText(bytes);
  if (text === null) {
    return {
      format: 'binary',
      payload: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
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
