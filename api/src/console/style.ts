/**
 * The console's one stylesheet, served at `/console/style.css` (the CSP admits styles from the
 * console's own origin only, so nothing is inline). Plain, legible, with a visible focus ring
 * for keyboard use.
 *
 * @module
 */
export const STYLESHEET = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --accent: #0b5cad; --bad: #a40e26; --good: #116329; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--ink); background: #f6f8fa; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; z-index: 1; }
header { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; padding: 10px 20px; background: #0d1117; color: #fff; }
header a { color: #fff; }
header .brand { font-weight: 700; margin-right: 8px; }
header nav ul { display: flex; gap: 14px; list-style: none; margin: 0; padding: 0; flex-wrap: wrap; }
header form { margin-left: auto; display: flex; gap: 8px; align-items: center; }
header button { background: #fff; color: #0d1117; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 20px 40px; }
h1 { font-size: 22px; margin: 8px 0 14px; }
h2 { font-size: 18px; margin: 22px 0 8px; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
caption { text-align: left; font-weight: 600; padding: 6px 0; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #eef1f4; font-weight: 600; }
td.num { font-variant-numeric: tabular-nums; text-align: right; }
code, .mono { font-family: ui-monospace, monospace; font-size: 13px; word-break: break-all; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: #fff; border: 1px solid var(--line); padding: 10px 14px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
form.inline { display: flex; gap: 6px; align-items: end; flex-wrap: wrap; margin: 0; }
label { display: block; font-weight: 600; font-size: 13px; }
input, select { font: inherit; padding: 5px 8px; border: 1px solid #8c959f; border-radius: 4px; background: #fff; }
button { font: inherit; padding: 5px 12px; border: 1px solid #1f2328; border-radius: 4px; background: var(--accent); color: #fff; cursor: pointer; }
.field { display: flex; flex-direction: column; gap: 2px; margin-bottom: 10px; }
.search { display: flex; gap: 8px; align-items: end; margin: 6px 0 18px; }
.search .field { flex: 0 1 640px; }
.search input { width: 100%; }
.notice { padding: 8px 12px; border-radius: 4px; margin: 8px 0 14px; border: 1px solid; background: #fff; }
.notice.ok { border-color: var(--good); color: var(--good); }
.notice.error { border-color: var(--bad); color: var(--bad); }
.status { display: inline-block; padding: 0 6px; border-radius: 10px; border: 1px solid var(--line); font-size: 13px; }
.status.credited { border-color: var(--good); color: var(--good); }
.status.unmatched, .status.held, .status.reversed, .status.frozen, .status.firing, .status.error { border-color: var(--bad); color: var(--bad); }
.status.ok, .status.stable { border-color: var(--good); color: var(--good); }
.status.pending, .status.canary { border-color: #9a6700; color: #7d4e00; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; list-style: none; padding: 0; }
.cards li a, .cards .card { display: block; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 16px; min-width: 160px; text-decoration: none; color: var(--ink); }
.cards .count { display: block; font-size: 26px; font-weight: 700; }
.signin { max-width: 360px; margin: 60px auto; background: #fff; border: 1px solid var(--line); padding: 20px 24px; border-radius: 8px; }
.muted { color: var(--muted); }
pre { white-space: pre-wrap; word-break: break-all; background: #fff; border: 1px solid var(--line); padding: 8px; margin: 0; font-size: 12px; max-height: 240px; overflow: auto; }
`;

/** The console's icon (a browser asks for one; without it, every page logs a 404). */
export const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#0b5cad"/></svg>`;
