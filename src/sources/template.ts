// Topic templates of sources: `data/{table}/{MonitorId}`, `erp/orders/{id}/{op}`. Literal text and
// `{name}` placeholders; names are row fields, or one of the change's own names (TEMPLATE_NAMES).
// Pure code, no HarperDB.

/** Placeholders every change has, whatever its row: they win over row fields of the same name. */
export const TEMPLATE_NAMES = ['table', 'database', 'op', 'source'] as const;
type ChangeName = (typeof TEMPLATE_NAMES)[number];

export interface TopicTemplate {
  text: string;
  parts: Array<string | { field: string }>;
  /** Row fields the template reads (not the change's own names). */
  rowFields: string[];
}

export class TemplateError extends Error {}

const FIELD = /^[A-Za-z_$][\w$.-]*$/;

export function parseTemplate(text: unknown): TopicTemplate {
  if (typeof text !== 'string' || text === '') throw new TemplateError('topic must be a non-empty template like "data/{table}/{MonitorId}"');
  const parts: TopicTemplate['parts'] = [];
  const rowFields: string[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('{', at);
    const literalEnd = open < 0 ? text.length : open;
    if (literalEnd > at) parts.push(literal(text.slice(at, literalEnd), text));
    if (open < 0) break;
    const close = text.indexOf('}', open);
    if (close < 0) throw new TemplateError(`topic "${text}": "{" at ${open} is not closed`);
    const name = text.slice(open + 1, close);
    if (!FIELD.test(name)) throw new TemplateError(`topic "${text}": "{${name}}" is not a field name`);
    parts.push({ field: name });
    if (!(TEMPLATE_NAMES as readonly string[]).includes(name) && !rowFields.includes(name)) rowFields.push(name);
    at = close + 1;
  }
  return { text, parts, rowFields };
}

function literal(part: string, text: string): string {
  if (part.includes('}')) throw new TemplateError(`topic "${text}": "}" without "{"`);
  if (/[+#\u0000]/.test(part)) throw new TemplateError(`topic "${text}": wildcards (+, #) and NUL are not allowed in a topic`);
  return part;
}

export type ChangeNames = Record<ChangeName, string>;

/** The topic for one row, or the reason there is none (a missing field, a value no topic may hold). */
export function renderTopic(template: TopicTemplate, names: ChangeNames, row: Readonly<Record<string, unknown>> | null): { topic: string } | { problem: string } {
  let topic = '';
  for (const part of template.parts) {
    if (typeof part === 'string') {
      topic += part;
      continue;
    }
    const value = (TEMPLATE_NAMES as readonly string[]).includes(part.field) ? names[part.field as ChangeName] : row?.[part.field];
    if (value === undefined || value === null || value === '') return { problem: `the row has no ${part.field} for topic ${template.text}` };
    if (typeof value === 'object' && !(value instanceof Date)) return { problem: `${part.field} is not a plain value (topic ${template.text})` };
    const text = value instanceof Date ? value.toISOString() : String(value);
    if (/[+#\u0000]/.test(text)) return { problem: `${part.field} = ${JSON.stringify(text)} would put a wildcard or NUL in the topic` };
    topic += text;
  }
  return { topic };
}
