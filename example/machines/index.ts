export * from './util';
export * from './single-success';
export * from './single-failure';
export * from './success-and-fail';
export * from './polling';
export * from './cancelling-statement';
export * from './parallel-no-concurrency';
export * from './chained';
