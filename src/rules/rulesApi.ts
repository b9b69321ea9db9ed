// REST for table rules, for HarperDB super users: GET /mqtt_topic_rules/ lists them (config.yaml's
// and runtime ones), POST adds one (or replaces the runtime rule with the same pattern) and moves
// the retained rows it now owns into its table, DELETE /mqtt_topic_rules/<id> removes a runtime rule.
import { server } from 'harperdb';
import { log } from '../harper/log.js';
import { HttpError, requireAdmin, restResource } from '../harper/restResource.js';
import type { RetainedStore } from '../retained.js';
import { claim } from '../tables/ownership.js';
import { ruleDefinition, RuleError } from './rule.js';
import { ruleId, RULES_TABLE, type RuleStore } from './ruleStore.js';

/** Messages other threads were still storing the old way while they learnt the rule: moved on a second pass. */
const SECOND_PASS_MS = 1000;

export function registerRulesApi(rules: RuleStore, retained: RetainedStore): void {
  const add = async (data: unknown, createdBy: string) => {
    try {
      const rule = await rules.add(data, createdBy);
      const migrated = await retained.moveInto(rule);
      setTimeout(() => {
        retained.moveInto(rule).catch((error) => log.warn(`could not move retained rows into ${rule.table}`, error));
      }, SECOND_PASS_MS).unref();
      log.info(`table rule ${rule.pattern.source} -> ${rule.database}.${rule.table} added by ${createdBy}; ${migrated} retained messages moved into it`);
      return { id: ruleId(rule.pattern.source), ...ruleDefinition(rule), migrated };
    } catch (error) {
      if (error instanceof RuleError) throw new HttpError(400, error.message);
      throw error;
    }
  };
  const resource = restResource(RULES_TABLE, {
    get: (request) => {
      requireAdmin(request.user);
      const id = request.path.replace(/^\/|\/$/g, '');
      const listed = rules.list();
      if (id === '') return listed;
      const found = listed.find((rule) => rule.id === id);
      if (!found) throw new HttpError(404, `no table rule ${id}`);
      return found;
    },
    post: (request, data) => {
      requireAdmin(request.user);
      return add(data, request.user?.username ?? '');
    },
    put: (request, data) => {
      requireAdmin(request.user);
      return add(data, request.user?.username ?? '');
    },
    delete: async (request) => {
      requireAdmin(request.user);
      const id = decodeURIComponent(request.path.replace(/^\/|\/$/g, ''));
      try {
        if (!(await rules.remove(id))) throw new HttpError(404, `no runtime table rule ${id}`);
      } catch (error) {
        if (error instanceof RuleError) throw new HttpError(409, error.message);
        throw error;
      }
      return { removed: id };
    },
  });
  claim(resource);
  server.resources.set(RULES_TABLE, resource, { rest: true, mqtt: false });
}
