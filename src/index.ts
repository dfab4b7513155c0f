export * from './errors';
export * from './tasker-props';
export * from './tasker';
export * from './options';
