export * from './errors';
export * from './tasker-props';
export * from './tasker';
export * from './options';
export * from './task-options';
export * from './sql-task';
export * from './statement-task';
export * from './sql-resource';
