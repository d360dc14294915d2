export * from './cluster';
export { FxClusterBase } from './cluster-base';
export * from './contract';
export * from './addon';
export * from './addons/builtins';
export * from './nodegroup-options';
export * from './props';
export * from './tls';
