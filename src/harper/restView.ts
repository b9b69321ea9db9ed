// A read-only REST face for a table: collection listings show readable fields by default
// (the raw payload bytes only when `select` asks for them) and writes are refused, because
// messages enter through MQTT so that subscribers see them.
import type { HarperTable } from './tables.js';

export interface Target {
  isCollection?: boolean;
  select?: unknown;
}

class MethodNotAllowed extends Error {
  statusCode = 405;
}

type Constructor = new (...args: never[]) => { get(target: Target): unknown };

export function readOnlyView<T extends object>(
  table: HarperTable<T>,
  defaultSelect: readonly string[],
  why = 'publish over MQTT instead',
): HarperTable<T> {
  const Base = table as unknown as Constructor;
  const refuse = (): never => {
    throw new MethodNotAllowed(`${table.tableName} is read-only over REST; ${why}`);
  };
  class ReadOnlyView extends Base {
    override get(target: Target): unknown {
      if (target?.isCollection && !target.select) target.select = [...defaultSelect];
      return super.get(target);
    }
    put(): never {
      return refuse();
    }
    post(): never {
      return refuse();
    }
    patch(): never {
      return refuse();
    }
    delete(): never {
      return refuse();
    }
  }
  return ReadOnlyView as unknown as HarperTable<T>;
}
