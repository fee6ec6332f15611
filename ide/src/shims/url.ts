/**
 * The two functions of Node's `url` module that crosis calls (`parse`, `format`), on top of the
 * browser's WHATWG `URL`. crosis parses the gurl, replaces `pathname` and formats it back.
 */

export interface UrlParts {
  protocol?: string | null;
  slashes?: boolean | null;
  auth?: string | null;
  host?: string | null;
  hostname?: string | null;
  port?: string | null;
  pathname?: string | null;
  search?: string | null;
  query?: Record<string, string> | string | null;
  hash?: string | null;
}

export function parse(href: string): UrlParts {
  const url = new URL(href);
  const auth = url.username ? `${url.username}${url.password ? `:${url.password}` : ''}` : null;
  return {
    protocol: url.protocol,
    slashes: true,
    auth,
    host: url.host,
    hostname: url.hostname,
    port: url.port || null,
    pathname: url.pathname,
    search: url.search || null,
    hash: url.hash || null,
  };
}

function searchOf(parts: UrlParts): string {
  if (parts.search) {
    return parts.search.startsWith('?') ? parts.search : `?${parts.search}`;
  }
  if (parts.query && typeof parts.query === 'object') {
    const text = new URLSearchParams(parts.query).toString();
    return text ? `?${text}` : '';
  }
  return '';
}

export function format(parts: UrlParts): string {
  const protocol = parts.protocol ?? '';
  // crosis may change `hostname` alone (polling host); `host` then still holds the old name.
  const host = parts.host ?? `${parts.hostname ?? ''}${parts.port ? `:${parts.port}` : ''}`;
  const auth = parts.auth ? `${parts.auth}@` : '';
  const path = parts.pathname ?? '';
  return `${protocol}//${auth}${host}${path}${searchOf(parts)}${parts.hash ?? ''}`;
}

export default { parse, format };
