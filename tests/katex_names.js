// Regenerates app/content/katex_names.json from the vendored KaTeX (see tests/content/test_math_check.py):
//   node tests/katex_names.js app/web/static/vendor/katex/katex.min.js > app/content/katex_names.json
// Prints the control sequences and environments the vendored KaTeX defines.
const fs = require("fs"); console.warn = () => {}; const print = console.log; console.log = () => {};
const path = process.argv[2];
const katex = require(path);
const src = fs.readFileSync(path, "utf8");
const names = new Set();
for (const m of src.matchAll(/"(\\\\[a-zA-Z]+)"/g)) names.add(JSON.parse('"' + m[1] + '"'));
const extra = (process.argv[3] || "").split(",").filter(Boolean);
for (const e of extra) names.add(e);
const known = [];
for (const name of [...names].sort()) {
  try { katex.renderToString(name + "{x}{y}{z}", {throwOnError: true}); known.push(name); }
  catch (e) { if (!/Undefined control sequence/.test(e.message)) known.push(name); }
}
const envs = [];
for (const m of src.matchAll(/names:\[([^\]]*)\]/g)) {
  let list = []; try { list = JSON.parse("[" + m[1] + "]"); } catch (e) {}
  for (const n of list) {
    if (/^[a-zA-Z*]+$/.test(n)) {
      try { katex.renderToString("\\begin{" + n + "}x\\end{" + n + "}", {throwOnError: true}); envs.push(n); }
      catch (e) { if (!/No such environment/.test(e.message)) envs.push(n); }
    }
  }
}
print(JSON.stringify({version: katex.version, commands: known, environments: [...new Set(envs)].sort()}));
