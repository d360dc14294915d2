export * from './cluster';
export * from './nodegroup-options';
export * from './props';
export * from './tls';
