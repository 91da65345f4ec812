// web/assemble.js - writes the playground's one self-contained page: the
// template web/index.html with the example scenarios (every .scn of a
// folder, by name) and the engine's script (emcc output, its wasm inlined)
// put in place of its two markers.  Nothing is fetched at run time, so the
// page works from file://.
//
//   node web/assemble.js TEMPLATE SCENARIO_DIR ENGINE_JS OUT_HTML
'use strict';
const fs = require('fs');
const path = require('path');
const [tmplPath, scnDir, enginePath, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: node assemble.js TEMPLATE SCENARIO_DIR ENGINE_JS OUT_HTML');
  process.exit(2);
}
const examples = fs.readdirSync(scnDir).filter((f) => f.endsWith('.scn')).sort()
  .map((f) => ({ name: f, text: fs.readFileSync(path.join(scnDir, f), 'utf8') }));
// Inside <script>, "</" could end the element: write it as "<\/".
const safe = (s) => s.replace(/<\//g, '<\\/');
const engine = fs.readFileSync(enginePath, 'utf8');
if (/<\/script/i.test(engine)) {
  console.error('assemble: the engine script contains </script>');
  process.exit(1);
}
let html = fs.readFileSync(tmplPath, 'utf8');
const put = (marker, text) => {
  const parts = html.split(marker);
  if (parts.length !== 2) {
    console.error(`assemble: ${tmplPath}: expected one ${marker}`);
    process.exit(1);
  }
  html = parts.join(text);
};
put('<!--@EXAMPLES@-->', '<script type="application/json" id="examples">' +
    safe(JSON.stringify(examples)) + '</script>');
put('<!--@ENGINE@-->', '<script>' + engine + '</script>');
fs.writeFileSync(outPath, html);
