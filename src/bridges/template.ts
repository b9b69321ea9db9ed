// Topic templates of bridge rules (pure): `fwd/${topic}` with an optional prefix stripped from the
// topic first, so `devices/a/t` with stripPrefix `devices/` and template `plant1/${topic}` becomes
// `plant1/a/t`. `${topic}` is the only placeholder; the rest of a template is literal text.
export const TOPIC_PLACEHOLDER = '${topic}';

export interface TopicTemplate {
  template: string;
  stripPrefix?: string;
}

/** Why a template is not usable, or null. */
export function templateProblem(template: string): string | null {
  if (typeof template !== 'string' || template === '') return 'must be a non-empty string like "fwd/${topic}"';
  const literal = template.split(TOPIC_PLACEHOLDER).join('');
  if (/\$\{/.test(literal)) return `may only use the placeholder ${TOPIC_PLACEHOLDER}`;
  if (/[+#\u0000]/.test(literal)) return 'must not contain the wildcards + or # (nor NUL)';
  return null;
}

export function applyTemplate({ template, stripPrefix }: TopicTemplate, topic: string): string {
  const rest = stripPrefix && topic.startsWith(stripPrefix) ? topic.slice(stripPrefix.length) : topic;
  return template.split(TOPIC_PLACEHOLDER).join(rest);
}
