export * from './core';
export * from './delivery';
export * from './cluster';
