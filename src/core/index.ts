export * from './profile';
export * from './versions';
export { FxCapability } from './install-order';
export * from './contracts';
