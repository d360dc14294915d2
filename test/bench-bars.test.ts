import { benchBars, Result } from '../build-tools/bench';

/** The benchmark's three sizes with these fastest runs (ms), a platform stack and one service stack each. */
function results(ms: number[], resourcesPerService = 6): Result[] {
  return [1, 50, 200].map((services, i) => ({
    services,
    medianMs: ms[i] + 100,
    runsMs: [ms[i] + 300, ms[i], ms[i] + 100],
    peakRssMb: 150,
    stacks: [{ name: 'FxPlatform', resources: 216, bytes: 300_000 }, ...serviceStacks(services * resourcesPerService)],
  }));
}
/** Service stacks of at most 120 resources holding `resources` in all. */
function serviceStacks(resources: number): Result['stacks'] {
  return Array.from({ length: Math.ceil(resources / 120) }, (_, i) => ({ name: `FxServices${i}`, resources: Math.min(120, resources - 120 * i), bytes: 1000 }));
}
/** The bars that fail, each as `<first words of its name>: <figure>`. */
const failing = (r: Result[]) => benchBars(r).filter(([, ok]) => !ok).map(([name, , value]) => `${name.split(' ').slice(0, 4).join(' ')}: ${value}`);

describe('benchmark bars (build-tools/bench.ts)', () => {
  test('the runs of 2026-12-03 pass: linear, 3.32x', () => {
    expect(failing(results([2350, 3630, 7810]))).toEqual([]);
  });

  test('a quadratic synthesis fails the linearity bar, though its 200/1 ratio stays under 4x', () => {
    const t = (n: number) => 2000 + 10 * n + 0.1 * n * n;
    expect(failing(results([t(1), t(50), t(200)]))).toEqual(['synth time per service: 35.0 ms vs 15.1 ms per service: 2.32x']);
  });

  test('a service that costs three times as much fails the ratio bar, though it scales linearly', () => {
    const t = (n: number) => 2000 + 60 * n;
    expect(failing(results([t(1), t(50), t(200)]))).toEqual(['synth at 200 services: 6.80x']);
  });

  test('a middle size faster than the smallest is no measurement of scaling', () => {
    expect(failing(results([3000, 2900, 7000]))).toEqual(['synth time per service: 27.3 ms vs -2.0 ms per service: -13.39x']);
  });

  test('a seventh resource per service, or a stack over 500 resources, fails', () => {
    expect(failing(results([2350, 3630, 7810], 7))).toEqual(['<= 6 CloudFormation resources: 7.00']);
    const big = results([2350, 3630, 7810]);
    big[2].stacks.push({ name: 'FxObservabilityExtra', resources: 501, bytes: 1000 });
    expect(failing(big)).toEqual(['no stack over 500: 200:FxObservabilityExtra']);
  });
});
