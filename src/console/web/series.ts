// Time series for the console's small charts, from $SYS values: a rate per second from a total
// that only grows (bytes received, say), or a gauge as it is. Pure code (browser and unit tests).

export interface Point {
  /** Epoch ms. */
  t: number;
  v: number;
}

export abstract class Series {
  readonly points: Point[] = [];

  constructor(private readonly capacity = 120) {}

  /** A new value of the $SYS figure at time t. */
  abstract push(t: number, value: number): void;

  protected add(point: Point): void {
    this.points.push(point);
    if (this.points.length > this.capacity) this.points.shift();
  }

  get latest(): number | undefined {
    return this.points[this.points.length - 1]?.v;
  }
}

export class GaugeSeries extends Series {
  override push(t: number, value: number): void {
    this.add({ t, v: value });
  }
}

/** Per-second rate between consecutive totals; a total that went down (a restart) starts over. */
export class RateSeries extends Series {
  private previous: Point | null = null;

  override push(t: number, total: number): void {
    const previous = this.previous;
    this.previous = { t, v: total };
    if (!previous || t <= previous.t || total < previous.v) return;
    this.add({ t, v: ((total - previous.v) * 1000) / (t - previous.t) });
  }
}

export interface ChartBox {
  width: number;
  height: number;
  /** Milliseconds across the width, ending at `end` on the right. */
  span: number;
  end: number;
  /** The value at the top; several series drawn with the same `top` share a scale. */
  top: number;
}

/** Points of an SVG polyline drawing the series in the box, 0 at the bottom, values past `top` at the top. */
export function polylinePoints(points: readonly Point[], box: ChartBox): string {
  const top = box.top > 0 ? box.top : 1;
  return points
    .map((p) => {
      const x = box.width - ((box.end - p.t) / box.span) * box.width;
      const y = box.height - (Math.min(top, Math.max(0, p.v)) / top) * box.height;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

/** 1234 -> "1.2k", for chart labels. */
export function shortNumber(value: number): string {
  const units = ['', 'k', 'M', 'G', 'T'];
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 && Number.isInteger(value) ? 0 : value < 10 ? 1 : 0;
  return value.toFixed(digits) + units[unit];
}
