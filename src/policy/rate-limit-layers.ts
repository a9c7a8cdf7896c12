import type { ConfigIssue } from '../config/config-error.js';
import type { YamlSource } from '../config/yaml-source.js';
import { compileRateLimits, type CompiledLayer } from '../ratelimit/compile.js';
import type { RateLimitLayerSettings } from '../ratelimit/schema.js';
import type { FailMode } from '../store/store.js';

interface Declared<T> {
  readonly value: T;
  readonly source: YamlSource;
  readonly path: (string | number)[];
}

/**
 * Gathers the rate-limit layers of every policy file and the routes that name them, then
 * resolves the names. A layer applies to the routes that list it in `rate_limits` and to those
 * in its own `routes`. A layer that neither names routes nor is named by one applies to every
 * route.
 */
export class RateLimitLayers {
  readonly #layers: Declared<RateLimitLayerSettings>[] = [];
  readonly #references: Declared<{ route: string; layer: string }>[] = [];

  addLayers(layers: readonly RateLimitLayerSettings[], source: YamlSource): void {
    layers.forEach((value, index) => {
      this.#layers.push({ value, source, path: ['rate_limits', index] });
    });
  }

  addRouteReferences(
    route: string,
    layers: readonly string[],
    source: YamlSource,
    routeIndex: number,
  ): void {
    layers.forEach((layer, index) => {
      this.#references.push({
        value: { route, layer },
        source,
        path: ['routes', routeIndex, 'rate_limits', index],
      });
    });
  }

  /** Resolves names across files and compiles; problems become issues. */
  compile(
    routeNames: ReadonlySet<string>,
    defaultFailMode: FailMode,
    issues: ConfigIssue[],
  ): CompiledLayer[] {
    const byName = new Map<string, Declared<RateLimitLayerSettings>>();
    for (const layer of this.#layers) {
      const earlier = byName.get(layer.value.name);
      if (earlier) {
        const where = earlier.source.issueAt(earlier.path, '');
        issues.push(
          layer.source.issueAt(
            [...layer.path, 'name'],
            `duplicate rate-limit layer "${layer.value.name}", first declared at ${where.file}:${where.line}`,
          ),
        );
        continue;
      }
      byName.set(layer.value.name, layer);
    }
    const listedBy = new Map<string, Set<string>>();
    for (const { value, source, path } of this.#references) {
      if (!byName.has(value.layer)) {
        issues.push(source.issueAt(path, `no rate-limit layer is named "${value.layer}"`));
        continue;
      }
      const routes = listedBy.get(value.layer) ?? new Set<string>();
      routes.add(value.route);
      listedBy.set(value.layer, routes);
    }
    const settings = [...byName.values()].map(({ value, source, path }) => {
      (value.routes ?? []).forEach((route, index) => {
        if (!routeNames.has(route)) {
          issues.push(source.issueAt([...path, 'routes', index], `no route is named "${route}"`));
        }
      });
      const routes = new Set([...(value.routes ?? []), ...(listedBy.get(value.name) ?? [])]);
      return { ...value, routes: routes.size === 0 ? undefined : [...routes] };
    });
    return compileRateLimits(settings, defaultFailMode);
  }
}
