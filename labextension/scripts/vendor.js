// Copies the notebook widget's table front end (jupyter_exp/widgets/table.{js,css})
// into src/vendor/ (git-ignored) so that tsc and the builder bundle the very file the
// notebook loads: one table source for both hosts, and no run-time fetch in the Lab.
const fs = require('fs');
const path = require('path');

const source = path.resolve(__dirname, '..', '..', 'jupyter_exp', 'widgets');
const target = path.resolve(__dirname, '..', 'src', 'vendor');
fs.mkdirSync(target, { recursive: true });
for (const name of ['table.js', 'table.css']) {
  const from = path.join(source, name);
  const to = path.join(target, name);
  const text = fs.readFileSync(from, 'utf8');
  // Rewrite only when the text changed, so that tsc --watch and the builder's
  // up-to-date checks do not rebuild for nothing.
  if (!fs.existsSync(to) || fs.readFileSync(to, 'utf8') !== text) {
    fs.writeFileSync(to, text);
  }
}
