export * from './core';
export * from './delivery';
