// The console's listing panels (clients, sources, bridges): a table drawn
// from rows and column definitions, refreshed from one of the console's reads on a timer. Cells are
// set through textContent, never as HTML. Rows and cells are reused, so a refresh does not flicker
// and a hover title survives it.

export interface Cell {
  text: string;
  className?: string;
  /** Shown on hover. */
  title?: string;
}

export interface Column<T> {
  /** The cell's data-key, for styles and tests. */
  key: string;
  header: string;
  cell(row: T): Cell | string;
}

/** What each row's cells show. Pure. */
export function cellsOf<T>(row: T, columns: readonly Column<T>[]): Cell[] {
  return columns.map((column) => {
    const cell = column.cell(row);
    return typeof cell === 'string' ? { text: cell } : cell;
  });
}

/** Fills the table's body (and, the first time, its header); `rowKey` becomes each row's data-key. */
export function drawTable<T>(table: HTMLTableElement, columns: readonly Column<T>[], rows: readonly T[], rowKey: (row: T) => string): void {
  const head = table.tHead ?? table.createTHead();
  if (head.rows.length === 0) {
    const line = head.insertRow();
    for (const column of columns) line.append(Object.assign(document.createElement('th'), { textContent: column.header }));
  }
  const body = table.tBodies[0] ?? table.createTBody();
  while (body.rows.length > rows.length) body.lastElementChild!.remove();
  rows.forEach((row, i) => {
    const line = body.rows[i] ?? body.insertRow();
    line.dataset.key = rowKey(row);
    cellsOf(row, columns).forEach((cell, j) => {
      const td = line.cells[j] ?? line.insertCell();
      td.dataset.key = columns[j]!.key;
      if (td.textContent !== cell.text) td.textContent = cell.text;
      td.className = cell.className ?? '';
      if (cell.title) td.title = cell.title;
      else td.removeAttribute('title');
    });
  });
}

async function answerOf(response: Response): Promise<unknown> {
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  return response.json();
}

export async function getJson(url: string): Promise<unknown> {
  return answerOf(await fetch(url, { headers: { accept: 'application/json' } }));
}

export async function postJson(url: string, body: unknown): Promise<unknown> {
  return answerOf(await fetch(url, { method: 'POST', headers: { accept: 'application/json', 'content-type': 'application/json' }, body: JSON.stringify(body) }));
}

/** Reads `url` now and every `everyMs` while the page is visible, handing each answer to `show`. */
export function poll<T>(url: string, everyMs: number, show: (answer: T) => void, fail: (error: Error) => void): void {
  const load = async () => {
    if (document.hidden) return;
    try {
      show((await getJson(url)) as T);
    } catch (error) {
      fail(error as Error);
    }
  };
  setInterval(() => void load(), everyMs);
  void load();
}
