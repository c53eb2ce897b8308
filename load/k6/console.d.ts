/**
 * k6 provides `console` (https://grafana.com/docs/k6/latest/javascript-api/#console), but
 * `@types/k6` does not declare it, and the DOM library would declare much that k6 lacks
 * (`fetch`, `TextEncoder`, ...). Only what k6 has is declared here.
 */
declare const console: {
	log(...args: unknown[]): void;
	info(...args: unknown[]): void;
	warn(...args: unknown[]): void;
	error(...args: unknown[]): void;
	debug(...args: unknown[]): void;
};
