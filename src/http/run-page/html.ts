// HTML built from template literals, escaped by default: every interpolated value is escaped unless
// it is already Html (the result of another `html` template). Arrays are joined; null/undefined/false
// render nothing. So data (customer ids, notes, line descriptions) can never become markup.

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe in element content and in quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

export type HtmlValue = Html | string | number | boolean | null | undefined | HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0];
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1];
  });
  return new Html(out);
}

/** Only http(s) URLs become links (a `javascript:` URL in data would otherwise run on click). */
export function link(href: string, label: HtmlValue): Html {
  let safe: boolean;
  try {
    safe = ['http:', 'https:'].includes(new URL(href).protocol);
  } catch {
    safe = false;
  }
  return safe ? html`<a href="${href}" rel="noopener noreferrer">${label}</a>` : html`${label}`;
}
